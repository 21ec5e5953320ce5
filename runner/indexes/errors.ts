/**
 * Errors a user of the index advisor can meet and fix. Each says what is wrong, what to do,
 * and (for the apply path) that nothing was created.
 */
export type IndexAdvisorErrorCode = "hypopg_missing" | "hypopg_not_permitted" | "pg_stat_statements_missing";

export class IndexAdvisorError extends Error {
  override name = "IndexAdvisorError";
  constructor(
    readonly code: IndexAdvisorErrorCode,
    message: string,
  ) {
    super(message);
  }
}
