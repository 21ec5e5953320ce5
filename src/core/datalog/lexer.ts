/**
 * Tokens of the .dl syntax Datalox documents: `%` comments, lowercase atoms, `Upper`/`_Name`
 * variables, `_`, "strings", integers and floats, `:-`, `not`, comparisons and arithmetic.
 * A sign is its own token; the parser folds `-3` into a negative number where a term is expected,
 * so `A-1` is a subtraction, not `A` followed by `-1`.
 */
import type { Position } from "./ast";
import { DatalogError } from "./errors";

export type TokenKind =
  | "atom"
  | "var"
  | "wildcard"
  | "string"
  | "number"
  | "not"
  | "("
  | ")"
  | ","
  | "."
  | ":-"
  | "="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "+"
  | "-"
  | "*"
  | "/"
  | "eof";

export interface Token {
  kind: TokenKind;
  /** The source text of the token (for strings: the unescaped contents). */
  text: string;
  /** For numbers: the value. */
  value?: number;
  at: Position;
  /** Offset of the token's first character, and one past its last. */
  start: number;
  end: number;
}

const STRING_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", n: "\n", t: "\t", r: "\r" };

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const isLower = (c: string | undefined): boolean => c !== undefined && c >= "a" && c <= "z";
const isUpper = (c: string | undefined): boolean => c !== undefined && c >= "A" && c <= "Z";
const isIdentChar = (c: string | undefined): boolean => isLower(c) || isUpper(c) || isDigit(c) || c === "_";

/** How a token is shown in "found …" messages. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "the end of the input";
    case "string":
      return `the string "${token.text}"`;
    case "atom":
      return `the atom ${token.text}`;
    case "var":
      return `the variable ${token.text}`;
    case "number":
      return `the number ${token.text}`;
    default:
      return `'${token.text}'`;
  }
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  let line = 1;
  let column = 1;

  const advance = (n: number): void => {
    for (let i = 0; i < n; i++) {
      if (source[offset] === "\n") {
        line++;
        column = 1;
      } else {
        column++;
      }
      offset++;
    }
  };
  const push = (kind: TokenKind, length: number, extra: Partial<Token> = {}): void => {
    const at = { line, column };
    const start = offset;
    const text = source.slice(offset, offset + length);
    advance(length);
    tokens.push({ kind, text, at, start, end: offset, ...extra });
  };

  while (offset < source.length) {
    const c = source[offset]!;
    const next = source[offset + 1];
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      advance(1);
    } else if (c === "%") {
      while (offset < source.length && source[offset] !== "\n") advance(1);
    } else if (isLower(c)) {
      let n = 1;
      while (isIdentChar(source[offset + n])) n++;
      push(source.slice(offset, offset + n) === "not" ? "not" : "atom", n);
    } else if (isUpper(c) || (c === "_" && isIdentChar(next))) {
      let n = 1;
      while (isIdentChar(source[offset + n])) n++;
      push("var", n);
    } else if (c === "_") {
      push("wildcard", 1);
    } else if (isDigit(c)) {
      let n = 1;
      while (isDigit(source[offset + n])) n++;
      // A dot is part of the number only when a digit follows: `X > 3.` ends a rule.
      if (source[offset + n] === "." && isDigit(source[offset + n + 1])) {
        n += 2;
        while (isDigit(source[offset + n])) n++;
      }
      const e = source[offset + n];
      if (e === "e" || e === "E") {
        const sign = source[offset + n + 1] === "+" || source[offset + n + 1] === "-" ? 1 : 0;
        if (isDigit(source[offset + n + 1 + sign])) {
          n += 1 + sign;
          while (isDigit(source[offset + n])) n++;
        }
      }
      if (isIdentChar(source[offset + n])) {
        throw new DatalogError("syntax", `expected a number, found '${source.slice(offset, offset + n + 1)}'`, { line, column });
      }
      push("number", n, { value: Number(source.slice(offset, offset + n)) });
    } else if (c === '"') {
      const at = { line, column };
      const start = offset;
      let text = "";
      let n = 1;
      for (;;) {
        const ch = source[offset + n];
        if (ch === undefined || ch === "\n") {
          throw new DatalogError("syntax", "unterminated string: expected a closing '\"' on the same line", at);
        }
        if (ch === '"') break;
        if (ch === "\\") {
          const escaped = STRING_ESCAPES[source[offset + n + 1] ?? ""];
          if (escaped === undefined) {
            throw new DatalogError("syntax", `unknown escape '\\${source[offset + n + 1] ?? ""}' in a string: expected \\" \\\\ \\n \\t or \\r`, {
              line,
              column: column + n,
            });
          }
          text += escaped;
          n += 2;
        } else {
          text += ch;
          n++;
        }
      }
      advance(n + 1);
      tokens.push({ kind: "string", text, at, start, end: offset });
    } else if (c === ":" && next === "-") {
      push(":-", 2);
    } else if (c === "!" && next === "=") {
      push("!=", 2);
    } else if (c === "<" && next === "=") {
      push("<=", 2);
    } else if (c === ">" && next === "=") {
      push(">=", 2);
    } else if ("(),.=<>+-*/".includes(c)) {
      push(c as TokenKind, 1);
    } else if (c === ":") {
      throw new DatalogError("syntax", "expected ':-' (a rule is written head :- body.), found ':'", { line, column });
    } else if (c === "!") {
      throw new DatalogError("syntax", "expected '!=' (not equal), found '!'", { line, column });
    } else {
      throw new DatalogError("syntax", `unexpected character '${c}': expected an atom, a variable, a number, a string or punctuation`, {
        line,
        column,
      });
    }
  }
  tokens.push({ kind: "eof", text: "", at: { line, column }, start: offset, end: offset });
  return tokens;
}
