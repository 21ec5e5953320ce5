import { afterEach, describe, expect, it, vi } from "vitest";
import { COMMANDS, main } from "../../runner/cli/main";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  return { out: () => out.join(""), err: () => err.join("") };
}

describe("pg2une CLI help", () => {
  afterEach(() => vi.restoreAllMocks());

  it("lists every command", async () => {
    const io = capture();
    expect(await main(["--help"])).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(io.out()).toContain(`  ${name}`);
  });

  it.each(Object.keys(COMMANDS))("`pg2une %s --help` prints its usage and exits 0 without running", async (name) => {
    const io = capture();
    expect(await main([name, "--help"])).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^Usage: pg2une ${name}\\b`));
    expect(io.err()).toBe("");
  });

  it("an unknown command is an error on stderr with exit 2", async () => {
    const io = capture();
    expect(await main(["no-such-command"])).toBe(2);
    expect(io.err()).toContain('unknown command "no-such-command"');
  });
});
