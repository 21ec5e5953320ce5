/**
 * Every problem a program or its facts can have is a DatalogError with a kind, so callers
 * (the CLI, the Worker) can tell a typo from a logic error, and a message that starts with
 * `line:column` and says what was expected.
 */
import type { Position } from "./ast";

export type DatalogErrorKind =
  /** The text is not valid .dl syntax. */
  | "syntax"
  /** A variable in the head, a negated atom or a comparison is bound by nothing. */
  | "unsafe"
  /** Negation or aggregation through recursion. */
  | "unstratifiable"
  /** One predicate used with different numbers of arguments. */
  | "arity"
  /** Input facts that are not a valid fact map. */
  | "facts";

export class DatalogError extends Error {
  override name = "DatalogError";
  constructor(
    readonly kind: DatalogErrorKind,
    /** The message without the position prefix. */
    readonly detail: string,
    readonly at?: Position,
  ) {
    super(at ? `${at.line}:${at.column}: ${detail}` : detail);
  }
}
