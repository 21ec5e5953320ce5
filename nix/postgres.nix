# pg2une-postgres-<arch>: the primary PostgreSQL 17 being tuned. 4 vCPU, 2048 MB.
# Data lives on a volume image, so it survives restarts of the VM.
{ config, lib, pg2unePostgresql, ... }:
let
  cfg = config.pg2une;
in
{
  pg2une.address = cfg.network.primary;
  pg2une.mac = "02:00:00:23:00:10";
  pg2une.tapId = "vm-pg2une-pg";

  networking.hostName = "pg2une-postgres";

  microvm = {
    vcpu = 4;
    mem = 2048;
    volumes = [{
      image = "pg2une-postgres-data.img";
      mountPoint = "/var/lib/postgresql";
      size = 20480;
    }];
  };

  services.postgresql = {
    enable = true;
    package = pg2unePostgresql;
    enableTCPIP = true;
    settings = cfg.postgresSettings;
    # The VM network is private to the host (TAP bridge): the runner connects as `postgres`
    # from the host, the canary replicates as `replicator`. Tighten to scram-sha-256 with
    # passwords if the bridge is shared with anything else.
    authentication = lib.mkForce ''
      local all         all                               peer
      host  all         postgres        ${cfg.network.subnet} trust
      host  replication ${cfg.replicationUser} ${cfg.network.subnet} trust
      host  all         all             ${cfg.network.subnet} scram-sha-256
    '';
    ensureUsers = [{
      name = cfg.replicationUser;
      ensureClauses = { login = true; replication = true; };
    }];
    initialScript = builtins.toFile "pg2une-init.sql" ''
      CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
      CREATE EXTENSION IF NOT EXISTS pg_qualstats;
      CREATE EXTENSION IF NOT EXISTS hypopg;
    '';
  };

  networking.firewall.allowedTCPPorts = [ cfg.postgresPort ];
}
