import { z } from "zod";

/**
 * The shape of a PostgreSQL setting name (`work_mem`, `pg_stat_statements.track`). Membership
 * in the knob catalog is checked by the runner, which answers 400 naming the knob.
 */
export const KNOB_NAME_PATTERN = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
export const KnobNameSchema = z.string().regex(KNOB_NAME_PATTERN, "not a PostgreSQL setting name");
