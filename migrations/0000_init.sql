CREATE TABLE "managed_indexes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"run_id" text,
	"index_name" text NOT NULL,
	"table_name" text NOT NULL,
	"columns" jsonb NOT NULL,
	"ddl" text NOT NULL,
	"status" text NOT NULL,
	"measured" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dropped_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "optimization_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"action" text NOT NULL,
	"mode" text NOT NULL,
	"trigger" text NOT NULL,
	"state" text NOT NULL,
	"step" text,
	"workload_class" text,
	"objective_source" text,
	"proposed_config" jsonb,
	"previous_config" jsonb,
	"baseline_metrics" jsonb,
	"result_metrics" jsonb,
	"improvement_pct" double precision,
	"outcome" text,
	"reason" text,
	"details" jsonb,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "optimizer_observations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"run_id" text,
	"workload_class" text NOT NULL,
	"config" jsonb NOT NULL,
	"score" double precision NOT NULL,
	"score_type" text NOT NULL,
	"tps" double precision,
	"latency_p99" double precision,
	"baseline_tps" double precision,
	"baseline_latency_p99" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "raw_samples" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"sample_id" text NOT NULL,
	"collected_at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"target" text NOT NULL,
	"seq" integer NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"state" text,
	"message" text NOT NULL,
	"data" jsonb
);
--> statement-breakpoint
CREATE TABLE "system_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"sample_id" text NOT NULL,
	"snapshot_time" timestamp with time zone NOT NULL,
	"window_seconds" double precision,
	"tps" double precision,
	"qps" double precision,
	"latency_p50" double precision,
	"latency_p95" double precision,
	"latency_p99" double precision,
	"latency_mean" double precision,
	"buffer_hit_ratio" double precision,
	"temp_bytes_per_sec" double precision,
	"wal_bytes_per_sec" double precision,
	"deadlocks" double precision,
	"checkpoints_timed" double precision,
	"checkpoints_req" double precision,
	"active_connections" integer,
	"idle_connections" integer,
	"idle_in_transaction" integer,
	"waiting_connections" integer,
	"total_connections" integer,
	"workload_type" text,
	"reset_detected" boolean DEFAULT false NOT NULL,
	"details" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "targets" (
	"name" text PRIMARY KEY NOT NULL,
	"runner_url" text NOT NULL,
	"runner_key_id" text NOT NULL,
	"mode" text DEFAULT 'direct' NOT NULL,
	"total_ram_mb" integer DEFAULT 4096 NOT NULL,
	"cpus" integer,
	"storage" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workload_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"sample_id" text NOT NULL,
	"snapshot_time" timestamp with time zone NOT NULL,
	"queryid" text NOT NULL,
	"query" text,
	"calls" bigint NOT NULL,
	"total_exec_time_ms" double precision NOT NULL,
	"mean_exec_time_ms" double precision,
	"stddev_exec_time_ms" double precision,
	"rows_per_call" double precision,
	"shared_blks_hit" bigint,
	"shared_blks_read" bigint,
	"temp_blks_written" bigint,
	"reset_detected" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "managed_indexes_target_name_live_uq" ON "managed_indexes" USING btree ("target","index_name") WHERE "managed_indexes"."dropped_at" is null;--> statement-breakpoint
CREATE INDEX "optimization_runs_target_started_idx" ON "optimization_runs" USING btree ("target","started_at");--> statement-breakpoint
CREATE INDEX "optimizer_observations_target_class_idx" ON "optimizer_observations" USING btree ("target","workload_class");--> statement-breakpoint
CREATE UNIQUE INDEX "raw_samples_target_sample_uq" ON "raw_samples" USING btree ("target","sample_id");--> statement-breakpoint
CREATE INDEX "raw_samples_target_time_idx" ON "raw_samples" USING btree ("target","collected_at");--> statement-breakpoint
CREATE UNIQUE INDEX "run_events_run_seq_uq" ON "run_events" USING btree ("run_id","seq");--> statement-breakpoint
CREATE INDEX "run_events_target_at_idx" ON "run_events" USING btree ("target","at");--> statement-breakpoint
CREATE UNIQUE INDEX "system_snapshots_target_sample_uq" ON "system_snapshots" USING btree ("target","sample_id");--> statement-breakpoint
CREATE INDEX "system_snapshots_target_time_idx" ON "system_snapshots" USING btree ("target","snapshot_time");--> statement-breakpoint
CREATE UNIQUE INDEX "workload_snapshots_target_sample_query_uq" ON "workload_snapshots" USING btree ("target","sample_id","queryid");--> statement-breakpoint
CREATE INDEX "workload_snapshots_target_query_time_idx" ON "workload_snapshots" USING btree ("target","queryid","snapshot_time");