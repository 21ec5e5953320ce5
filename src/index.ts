/**
 * The pg2une Worker: REST API (fetch), the per-minute decision loop (scheduled) and the
 * per-target rollout Durable Object.
 */
import { createApp } from "./api/app";
import { runScheduledTick } from "./scheduled";

export { TargetRollout } from "./rollout/target-rollout";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduledTick(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
