// Secrets are not in wrangler.toml, so `wrangler types` cannot see them; declare them here.
// Their values are validated at runtime by src/config.ts.
declare namespace Cloudflare {
  interface Env {
    DATABASE_URL: string;
    PG2UNE_API_TOKEN: string;
    PG2UNE_RUNNER_KEYS: string;
    NEON_WS_PROXY?: string;
  }
}
