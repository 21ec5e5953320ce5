/**
 * Locally, `wrangler dev --test-scheduled` does not run the cron by itself; it only exposes
 * /__scheduled. The dev stack calls it once shortly after start (so the first tick shows up
 * right away) and then every interval, as Cloudflare would for `* * * * *`.
 */
export const CRON_EXPRESSION = "* * * * *";

export interface CronTrigger {
  stop(): void;
}

export interface CronOptions {
  apiUrl: string;
  intervalMs: number;
  firstDelayMs: number;
  /** Reports each call (status or error) so the dev log shows the trigger beside the Worker's tick. */
  report: (message: string, ok: boolean) => void;
  fetchImpl?: typeof fetch;
}

export function scheduledUrl(apiUrl: string, cron = CRON_EXPRESSION): string {
  return `${apiUrl}/__scheduled?cron=${encodeURIComponent(cron).replace(/%20/g, "+")}`;
}

const REQUEST_TIMEOUT_MS = 30_000;

export function startCron(opts: CronOptions): CronTrigger {
  const doFetch = opts.fetchImpl ?? fetch;
  const url = scheduledUrl(opts.apiUrl);
  let stopped = false;
  const fire = async () => {
    if (stopped) return;
    try {
      const res = await doFetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await res.arrayBuffer();
      opts.report(`GET /__scheduled (cron "${CRON_EXPRESSION}") → ${res.status}`, res.ok);
    } catch (err) {
      if (!stopped) opts.report(`GET /__scheduled failed: ${(err as Error).message}`, false);
    }
  };
  const first = setTimeout(() => void fire(), opts.firstDelayMs);
  const every = opts.intervalMs > 0 ? setInterval(() => void fire(), opts.intervalMs) : undefined;
  return {
    stop() {
      stopped = true;
      clearTimeout(first);
      if (every) clearInterval(every);
    },
  };
}
