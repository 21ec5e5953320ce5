/** infrastructure_status: what this runner knows about primary, canary, split and mxc workloads. */
import { infrastructureStatus as mxcStatus } from "../mxc/infrastructure";
import { answers } from "../canary/sql";
import type { CommandHandler } from "./context";
import { canaryRuntime, refusing } from "./canary-errors";

export const infrastructureStatus: CommandHandler<"infrastructure_status"> = (_payload, ctx) =>
  refusing(async () => {
    const rt = canaryRuntime(ctx);
    const service = rt.service();
    const s = service.state();
    const canary = s.canary
      ? {
          backend: s.canary.backend,
          host: s.canary.host,
          port: s.canary.port,
          launchedAt: s.canaryLaunchedAt ?? null,
          ...(s.canary.backend === "mxc" ? { workloadId: s.canary.workloadId } : {}),
          answering: await answers(service.canaryUrl(), 1_000),
        }
      : null;
    const infra = rt.infrastructure();
    return {
      primary: service.primary(),
      canary,
      canaryBackend: rt.backendKind,
      routing: s.routing ?? null,
      routedBack: s.routedBack ?? null,
      formerPrimary: s.formerPrimary ? { host: s.formerPrimary.host, port: s.formerPrimary.port, role: s.formerPrimary.role } : null,
      mxc: infra ? await mxcStatus(infra) : null,
      routingConfigured: rt.routingConfigured,
    };
  });
