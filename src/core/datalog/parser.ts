/**
 * Recursive-descent parser for .dl text (Datalox's syntax):
 *
 *   program   := (fact | rule)*
 *   fact      := atom "."                         all arguments constants
 *   rule      := atom ":-" literal ("," literal)* "."
 *   literal   := atom | "not" atom | expr cmp expr | Var "=" aggfn "(" terms ")"
 *   atom      := pred "(" [term ("," term)*] ")"   zero-arity: pred()
 *   term      := Var | "_" | atom-name | "string" | ["-"] number
 *   expr      := product (("+" | "-") product)*
 *   product   := unary (("*" | "/") unary)*
 *   unary     := "-" unary | Var | atom-name | "string" | number | "(" expr ")"
 *
 * Every error names the line:column and what was expected there.
 */
import {
  AGGREGATE_FNS,
  type AggregateFn,
  type Atom,
  type CompareOp,
  type Expr,
  type Literal,
  type ParsedProgram,
  type Position,
  type Rule,
  type SourceFact,
  type Term,
  type Value,
} from "./ast";
import { DatalogError } from "./errors";
import { describeToken, tokenize, type Token, type TokenKind } from "./lexer";

const COMPARE_OPS = new Set<TokenKind>(["<", "<=", ">", ">=", "=", "!="]);

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.pos++;
    return token;
  }

  private fail(expected: string, token = this.peek()): never {
    throw new DatalogError("syntax", `expected ${expected}, found ${describeToken(token)}`, token.at);
  }

  private expect(kind: TokenKind, expected: string): Token {
    if (this.peek().kind !== kind) this.fail(expected);
    return this.next();
  }

  program(): ParsedProgram {
    const facts: SourceFact[] = [];
    const rules: Rule[] = [];
    while (this.peek().kind !== "eof") {
      const firstIndex = this.pos;
      if (this.peek().kind !== "atom") this.fail("a fact or a rule starting with a lowercase predicate name");
      const head = this.atom();
      const after = this.next();
      if (after.kind === ".") {
        facts.push(this.groundFact(head));
      } else if (after.kind === ":-") {
        const body = [this.literal()];
        while (this.peek().kind === ",") {
          this.next();
          body.push(this.literal());
        }
        const end = this.expect(".", "',' or '.' after a body literal");
        rules.push({ head, body, text: this.textBetween(firstIndex, end), at: head.at, index: rules.length });
      } else {
        this.fail("'.' to end a fact or ':-' to start a rule body", after);
      }
    }
    return { facts, rules };
  }

  /** Parses exactly one ground atom, optionally ending in '.', e.g. `should_act(knobs)`. */
  groundAtom(): SourceFact {
    if (this.peek().kind !== "atom") this.fail("a fact such as pred(a, 1)");
    const fact = this.groundFact(this.atom());
    if (this.peek().kind === ".") this.next();
    if (this.peek().kind !== "eof") this.fail("the end of the fact");
    return fact;
  }

  private groundFact(atom: Atom): SourceFact {
    const args: Value[] = [];
    for (const arg of atom.args) {
      if (arg.kind === "const") args.push(arg.value);
      else {
        const what = arg.kind === "var" ? `the variable ${arg.name}` : "'_'";
        throw new DatalogError("syntax", `expected a constant in the fact ${atom.predicate}(...), found ${what} (facts are ground; did you mean a rule with ':-'?)`, arg.at);
      }
    }
    return { predicate: atom.predicate, args, at: atom.at };
  }

  private atom(): Atom {
    const name = this.expect("atom", "a predicate name (lowercase)");
    if (this.peek().kind !== "(") {
      this.fail(`'(' after the predicate name ${name.text} (a predicate without arguments is written ${name.text}())`);
    }
    this.next();
    const args: Term[] = [];
    if (this.peek().kind !== ")") {
      args.push(this.term(name.text));
      while (this.peek().kind === ",") {
        this.next();
        args.push(this.term(name.text));
      }
    }
    this.expect(")", `',' or ')' in the arguments of ${name.text}`);
    return { predicate: name.text, args, at: name.at };
  }

  private term(predicate: string): Term {
    const token = this.peek();
    switch (token.kind) {
      case "var":
        this.next();
        return { kind: "var", name: token.text, at: token.at };
      case "wildcard":
        this.next();
        return { kind: "wildcard", at: token.at };
      case "atom":
        this.next();
        if (this.peek().kind === "(") this.fail(`',' or ')' after ${token.text} (arguments are constants or variables, not nested atoms)`);
        return { kind: "const", value: token.text, at: token.at };
      case "string":
        this.next();
        return { kind: "const", value: token.text, at: token.at };
      case "number":
        this.next();
        return { kind: "const", value: token.value!, at: token.at };
      case "-": {
        this.next();
        const number = this.expect("number", "a number after '-'");
        return { kind: "const", value: normalizeZero(-number.value!), at: token.at };
      }
      default:
        return this.fail(`an argument of ${predicate} (a variable, _, an atom, a string or a number)`);
    }
  }

  private literal(): Literal {
    const token = this.peek();
    if (token.kind === "not") {
      this.next();
      if (this.peek().kind !== "atom") this.fail("a predicate after 'not'");
      return { kind: "negative", atom: this.atom() };
    }
    if (token.kind === "atom" && this.peek(1).kind === "(") {
      return { kind: "positive", atom: this.atom() };
    }
    const left = this.expr();
    const opToken = this.peek();
    if (!COMPARE_OPS.has(opToken.kind)) {
      const hint =
        left.kind === "const" && typeof left.value === "string" && token.kind === "atom"
          ? ` or '(' after the predicate name ${token.text} (a predicate without arguments is written ${token.text}())`
          : "";
      this.fail(`a comparison operator (<, <=, >, >=, =, !=)${hint}`);
    }
    this.next();
    const op = opToken.kind as CompareOp;
    const fnToken = this.peek();
    if (fnToken.kind === "atom" && AGGREGATE_FNS.includes(fnToken.text as AggregateFn) && this.peek(1).kind === "(") {
      if (op !== "=" || left.kind !== "var") {
        throw new DatalogError("syntax", `expected an aggregate in the form Var = ${fnToken.text}(...), found one after '${op}'`, fnToken.at);
      }
      const call = this.atom();
      const fn = call.predicate as AggregateFn;
      for (const arg of call.args) {
        if (arg.kind !== "var") {
          throw new DatalogError("syntax", `expected a variable as the argument of ${fn}(...), found ${arg.kind === "wildcard" ? "'_'" : "a constant"}`, arg.at);
        }
      }
      if (fn !== "count" && call.args.length !== 1) {
        throw new DatalogError("syntax", `expected exactly one variable in ${fn}(...) (the value to aggregate), found ${call.args.length}`, call.at);
      }
      return { kind: "aggregate", fn, result: left.name, args: call.args, at: left.at };
    }
    const right = this.expr();
    return { kind: "compare", op, left, right, at: left.at };
  }

  private expr(): Expr {
    let left = this.product();
    for (;;) {
      const op = this.peek();
      if (op.kind !== "+" && op.kind !== "-") return left;
      this.next();
      left = { kind: "binary", op: op.kind, left, right: this.product(), at: op.at };
    }
  }

  private product(): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.peek();
      if (op.kind !== "*" && op.kind !== "/") return left;
      this.next();
      left = { kind: "binary", op: op.kind, left, right: this.unary(), at: op.at };
    }
  }

  private unary(): Expr {
    const token = this.next();
    switch (token.kind) {
      case "-": {
        const operand = this.unary();
        if (operand.kind === "const" && typeof operand.value === "number") {
          return { kind: "const", value: normalizeZero(-operand.value), at: token.at };
        }
        return { kind: "negate", operand, at: token.at };
      }
      case "var":
        return { kind: "var", name: token.text, at: token.at };
      case "number":
        return { kind: "const", value: token.value!, at: token.at };
      case "string":
        return { kind: "const", value: token.text, at: token.at };
      case "atom":
        if (this.peek().kind === "(") {
          return this.fail(
            `a comparison, not a call: ${token.text}(...) here is neither a body atom nor an aggregate (aggregates are written Var = count(...), sum, min, max or avg)`,
            token,
          );
        }
        return { kind: "const", value: token.text, at: token.at };
      case "(": {
        const inner = this.expr();
        this.expect(")", "')' to close the parenthesis");
        return inner;
      }
      case "wildcard":
        throw new DatalogError("syntax", "expected a named variable in an expression, found '_' (a comparison needs a value)", token.at);
      default:
        return this.fail("a value (a variable, a number, an atom, a string or '(')", token);
    }
  }

  /** The source of a statement with comments dropped and whitespace collapsed to one space. */
  private textBetween(firstIndex: number, last: Token): string {
    let text = "";
    let prevEnd = -1;
    for (let i = firstIndex; i < this.tokens.length; i++) {
      const token = this.tokens[i]!;
      if (prevEnd >= 0 && token.start > prevEnd) text += " ";
      text += this.source.slice(token.start, token.end);
      prevEnd = token.end;
      if (token === last) break;
    }
    return text;
  }
}

function normalizeZero(n: number): number {
  return n === 0 ? 0 : n;
}

/** Parses .dl text into facts and rules (no safety or stratification checks; see parseProgram). */
export function parseSource(source: string): ParsedProgram {
  return new Parser(tokenize(source), source).program();
}

/** Parses one ground atom such as `should_act(knobs)` (used by explain and the CLI). */
export function parseGroundAtom(text: string): SourceFact {
  return new Parser(tokenize(text), text).groundAtom();
}

export type { Position };
