/** The early warning's log line: the projection's figures, and how the Event went. */
import type { EarlyWarningReport } from "../decide/decision.ts";
import { headroomCase } from "../decide/early_warning.ts";
import type { RejectionReason } from "../decide/select.ts";
import type { Logger } from "./log.ts";

export function logEarlyWarning(
  log: Logger,
  warning: EarlyWarningReport,
  excludedBecause: RejectionReason | null,
): void {
  const h = warning.headroom;
  log.warn(
    "Early warning: container {container} of {pod} is projected to reach its swap limit in " +
      "{secondsLeft} s ({case}); Event SoftOOMKillLikely {event}",
    {
      pod: `${warning.namespace}/${warning.pod}`,
      container: warning.container,
      secondsLeft: Math.round(h.secondsLeft ?? 0),
      case: headroomCase(h),
      swapBytes: h.swapBytes,
      swapLimitBytes: h.swapLimitBytes,
      growthBytesPerSecond: Math.round(h.growthBytesPerSecond ?? 0),
      plateauBytes: h.plateauBytes === null ? null : Math.round(h.plateauBytes),
      event: warning.event,
      mayAct: excludedBecause === null,
      ...(excludedBecause === null ? {} : { passedOver: excludedBecause }),
    },
  );
}
