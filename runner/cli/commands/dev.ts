/** `pg2une dev`: placeholder until the local stack lands (issue: Foundation). */
import { CliError } from "../io";

export async function run(_argv: string[]): Promise<number> {
  throw new CliError("the local stack is not built yet", 1);
}
