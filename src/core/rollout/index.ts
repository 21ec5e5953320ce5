/**
 * The rollout, pure: state machine, gates, measurement windows, honest summaries.
 * The Durable Object (src/rollout/target-rollout.ts) persists and performs what this decides.
 * See README.md in this folder.
 */
export * from "./timings";
export * from "./statistics";
export * from "./series";
export * from "./gates";
export * from "./summary";
export * from "./steps";
export * from "./knob-plan";
export * from "./run-state";
export * from "./results";
export * from "./machine";
export * from "./records";
