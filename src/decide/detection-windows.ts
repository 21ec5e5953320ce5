/**
 * The detection window lengths a deployment may change (the Worker's DETECTION_WINDOWS env, JSON),
 * and the detection config they give. Only how many points the windows hold: the detectors' maths
 * (CUSUM k and h, σ floors, E-Divisive significance, the confidence formula) stay as tested.
 *
 * Why: the defaults assume one snapshot a minute (a 60-point CUSUM reference = 1 h). A test or a
 * demo that ticks every few seconds shortens the reference so detection starts within minutes.
 * The same config serves the cron loop and GET /api/analysis, so both see the same thing.
 *
 * @example
 *   detectConfigOf({ cusumReferenceSize: 20 }).cusum.referenceSize; // 20
 */
import { z } from "zod";
import { DEFAULT_DETECT_CONFIG, type DetectConfig } from "../core/detect/config";

export const DetectionWindowsSchema = z
  .object({
    /** Valid points in the CUSUM reference (baseline) window (default 60). */
    cusumReferenceSize: z.number().int().min(10).max(1000).optional(),
    /** Points monitored after the reference before it slides forward (default 120). */
    cusumMaxMonitorLength: z.number().int().min(5).max(10_000).optional(),
  })
  .strict();

export type DetectionWindows = z.output<typeof DetectionWindowsSchema>;

export function detectConfigOf(windows: DetectionWindows): DetectConfig {
  if (windows.cusumReferenceSize === undefined && windows.cusumMaxMonitorLength === undefined) return DEFAULT_DETECT_CONFIG;
  return {
    ...DEFAULT_DETECT_CONFIG,
    cusum: {
      ...DEFAULT_DETECT_CONFIG.cusum,
      referenceSize: windows.cusumReferenceSize ?? DEFAULT_DETECT_CONFIG.cusum.referenceSize,
      maxMonitorLength: windows.cusumMaxMonitorLength ?? DEFAULT_DETECT_CONFIG.cusum.maxMonitorLength,
    },
  };
}
