/**
 * The signed-command protocol, one definition for the Worker, the runner and the in-VM agent.
 * Web-standard APIs only (crypto.subtle, TextEncoder): runs in workerd and Node. See README.md.
 */
export * from "./bytes";
export * from "./canonical";
export * from "./errors";
export * from "./headers";
export * from "./keys";
export * from "./nonce-store";
export * from "./signing";
export * from "./commands/index";

/** Where the runner takes commands. */
export const COMMANDS_PATH = "/v1/commands";
