# What every pg2une microVM shares: the network plan, the hypervisor, the /nix/store share and
# the PostgreSQL settings the runner relies on. Addresses are options so a host can renumber.
#
# The runner (on the host, 10.23.0.1 by default) expects:
#   primary     postgres://postgres@<primary>:5432/postgres   (superuser `postgres`)
#   canary      postgres://postgres@<replica>:5432/postgres   (streams from the primary as `replicator`)
#   PgBouncer   <pgbouncer>:6432, entry `rw` → primary, admin console db `pgbouncer` as `postgres`
# These match runner/postgres/cluster.ts (SUPERUSER, BASE_SETTINGS) and runner/pgbouncer/.
{ config, lib, pkgs, pg2unePostgresql, ... }:
let
  cfg = config.pg2une;
in
{
  options.pg2une = {
    network = {
      prefixLength = lib.mkOption { type = lib.types.int; default = 24; };
      gateway = lib.mkOption {
        type = lib.types.str;
        default = "10.23.0.1";
        description = "The host's address on the microVM bridge; the runner connects from here.";
      };
      subnet = lib.mkOption {
        type = lib.types.str;
        default = "10.23.0.0/24";
        description = "Who may connect to PostgreSQL/PgBouncer (pg_hba and firewall scope).";
      };
      primary = lib.mkOption { type = lib.types.str; default = "10.23.0.10"; };
      replica = lib.mkOption { type = lib.types.str; default = "10.23.0.11"; };
      pgbouncer = lib.mkOption { type = lib.types.str; default = "10.23.0.2"; };
    };
    address = lib.mkOption {
      type = lib.types.str;
      description = "This VM's address (set by each role).";
    };
    mac = lib.mkOption { type = lib.types.str; description = "This VM's MAC address (set by each role)."; };
    tapId = lib.mkOption {
      type = lib.types.str;
      description = "Host-side TAP interface name (at most 15 characters).";
    };
    postgresPort = lib.mkOption { type = lib.types.port; default = 5432; };
    pgbouncerPort = lib.mkOption { type = lib.types.port; default = 6432; };
    replicationUser = lib.mkOption { type = lib.types.str; default = "replicator"; };
    # Shared by primary and replica: a canary must run the same build and base settings, so
    # only what pg2une changes differs between them.
    postgresSettings = lib.mkOption {
      type = with lib.types; attrsOf (oneOf [ bool int str ]);
      readOnly = true;
      default = {
        port = cfg.postgresPort;
        shared_preload_libraries = "pg_stat_statements,pg_qualstats,pg_hint_plan";
        "pg_stat_statements.track" = "top";
        "pg_stat_statements.max" = 5000;
        track_io_timing = true;
        # Replication for the canary, and pg_rewind-able primaries after a switchover.
        wal_level = "replica";
        wal_log_hints = true;
        max_wal_senders = 10;
        max_replication_slots = 10;
        hot_standby = true;
        hot_standby_feedback = true;
      };
    };
  };

  config = {
    assertions = [{
      assertion = lib.stringLength cfg.tapId <= 15;
      message = "pg2une.tapId '${cfg.tapId}' is longer than the 15 characters Linux allows for an interface name";
    }];

    microvm = {
      hypervisor = lib.mkDefault "qemu";
      interfaces = [{ type = "tap"; id = cfg.tapId; mac = cfg.mac; }];
      # The host's store, read-only: small images, fast builds.
      shares = [{
        proto = "9p";
        tag = "ro-store";
        source = "/nix/store";
        mountPoint = "/nix/.ro-store";
      }];
    };

    networking.useNetworkd = true;
    networking.useDHCP = false;
    systemd.network.enable = true;
    systemd.network.networks."10-pg2une" = {
      matchConfig.MACAddress = cfg.mac;
      networkConfig = {
        Address = [ "${cfg.address}/${toString cfg.network.prefixLength}" ];
        Gateway = cfg.network.gateway;
        DHCP = "no";
      };
    };

    environment.systemPackages = [ pg2unePostgresql ];
    services.openssh.enable = lib.mkDefault false;
    system.stateVersion = "25.05";
  };
}
