# NixOS module for the pg2une runner on the tuning host (`pg2une runner`, see
# runner/cli/commands/runner.ts and runner/config.ts for every setting).
#
#   imports = [ pg2une.nixosModules.runner ];
#   services.pg2une-runner = {
#     enable = true;
#     source = "/opt/pg2une";                 # a checkout after `npm ci --omit=dev`
#     targetUrl = "postgres://postgres@10.23.0.10:5432/postgres";
#     environmentFile = "/run/secrets/pg2une-runner.env";  # PG2UNE_RUNNER_KEYS=default:…
#   };
#
# Secrets never enter the Nix store: the runner keys (and e.g. MXC_API_TOKEN) come from
# environmentFile, read by systemd at start.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.pg2une-runner;
in
{
  options.services.pg2une-runner = {
    enable = lib.mkEnableOption "the pg2une runner (acts on PostgreSQL for the pg2une Worker)";
    source = lib.mkOption {
      type = lib.types.path;
      example = "/opt/pg2une";
      description = "A pg2une checkout with its node_modules installed (`npm ci --omit=dev`).";
    };
    nodejs = lib.mkPackageOption pkgs "nodejs_20" { };
    host = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1";
      description = "Address to listen on (PG2UNE_RUNNER_HOST). The Worker reaches it through a tunnel or reverse proxy.";
    };
    port = lib.mkOption { type = lib.types.port; default = 7070; description = "PG2UNE_RUNNER_PORT"; };
    targetUrl = lib.mkOption {
      type = lib.types.str;
      description = "TARGET_POSTGRES_URL: the PostgreSQL this runner tunes (no password here; use environmentFile or .pgpass).";
    };
    environmentFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "KEY=value file with secrets: PG2UNE_RUNNER_KEYS (required for signed commands), MXC_API_TOKEN, PGPASSWORD.";
    };
    environment = lib.mkOption {
      type = with lib.types; attrsOf str;
      default = { };
      example = { MXC_COORDINATOR = "http://10.23.0.1:4000"; };
      description = "Further non-secret environment for the runner.";
    };
  };

  config = lib.mkIf cfg.enable {
    users.users.pg2une-runner = { isSystemUser = true; group = "pg2une-runner"; };
    users.groups.pg2une-runner = { };

    systemd.services.pg2une-runner = {
      description = "pg2une runner";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      environment = cfg.environment // {
        TARGET_POSTGRES_URL = cfg.targetUrl;
        NODE_ENV = "production";
      };
      serviceConfig = {
        ExecStart = "${cfg.nodejs}/bin/node ${cfg.source}/runner/bin/pg2une.js runner --host ${cfg.host} --port ${toString cfg.port} --state-dir /var/lib/pg2une-runner";
        EnvironmentFile = lib.mkIf (cfg.environmentFile != null) cfg.environmentFile;
        User = "pg2une-runner";
        Group = "pg2une-runner";
        # The command journal (idempotency) lives here.
        StateDirectory = "pg2une-runner";
        StateDirectoryMode = "0700";
        WorkingDirectory = "/var/lib/pg2une-runner";
        Restart = "on-failure";
        RestartSec = 2;
        # The runner handles SIGTERM: it stops accepting commands and exits.
        KillSignal = "SIGTERM";
        TimeoutStopSec = 30;
        NoNewPrivileges = true;
        PrivateTmp = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        ReadWritePaths = [ "/var/lib/pg2une-runner" ];
      };
    };
  };
}
