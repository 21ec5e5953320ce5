/**
 * The curl examples of README.md, read out of its ```sh blocks, so a test can run them as
 * written (test/e2e/readme-api.test.ts) and README and test cannot drift.
 */

/** The API URL the README's examples are written with (`npm start`'s default). */
export const README_API = "http://127.0.0.1:8787";

export interface ReadmeCurl {
  /** The command as the README has it (continuations joined, trailing comment removed). */
  command: string;
  /** The README comment's leading HTTP status, when it states one. */
  statedStatus: number | undefined;
  /** The block's variable assignments (API=…; TOKEN=…), run before the command. */
  prelude: string;
}

/**
 * Every curl against the API in README.md's ```sh blocks. Its prelude is what comes before it in
 * its block and is not a curl (variables, `npx pg2une collect … > sample.json`); a block that does
 * not set API gets the REST API block's `API=…; TOKEN=…` first.
 */
export function readmeCurls(readme: string): ReadmeCurl[] {
  const out: ReadmeCurl[] = [];
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((b) => b[1]!.replace(/\\\n\s*/g, "").split("\n"));
  const restBlock = blocks.find((lines) => lines.some((l) => /^API=.*TOKEN=/.test(l)));
  const defaultPrelude = restBlock?.find((l) => /^API=.*TOKEN=/.test(l)) ?? "";
  for (const lines of blocks) {
    const before: string[] = [];
    for (const line of lines) {
      const trimmed = line.trim();
      if (!trimmed.startsWith("curl ")) {
        if (trimmed && !trimmed.startsWith("#") && !trimmed.startsWith("npm ") && !trimmed.startsWith("npx pg2une detect")) before.push(stripComment(trimmed).text);
        continue;
      }
      if (!trimmed.includes("$API") && !trimmed.includes(README_API)) continue;
      const { text, comment } = stripComment(trimmed);
      const stated = /^(\d{3})\b/.exec(comment ?? "");
      const prelude = [...(before.some((l) => /^API=/.test(l)) ? [] : [defaultPrelude]), ...before].filter(Boolean).join("\n");
      out.push({ command: text, statedStatus: stated ? Number(stated[1]) : undefined, prelude });
    }
  }
  return out;
}

/** `cmd   # comment` → both halves (a '#' inside quotes is not a comment). */
function stripComment(line: string): { text: string; comment: string | undefined } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === "#" && i > 0 && /\s/.test(line[i - 1]!)) {
      return { text: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
    }
  }
  return { text: line.trimEnd(), comment: undefined };
}

