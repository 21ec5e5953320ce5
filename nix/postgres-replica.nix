# pg2une-postgres-replica-<arch>: the canary. Same size, build and base settings as the primary;
# on first boot it clones the primary with pg_basebackup -R (streaming replication as
# `replicator`), then PostgreSQL starts as a hot standby. The runner applies the candidate
# configuration to it (ALTER SYSTEM works on a standby) and PgBouncer sends it a share of the
# read-only traffic. The mxc coordinator starts it by this configuration's name.
{ config, lib, pkgs, pg2unePostgresql, ... }:
let
  cfg = config.pg2une;
  dataDir = config.services.postgresql.dataDir;
in
{
  pg2une.address = cfg.network.replica;
  pg2une.mac = "02:00:00:23:00:11";
  pg2une.tapId = "vm-pg2une-rep";

  networking.hostName = "pg2une-postgres-replica";

  microvm = {
    vcpu = 4;
    mem = 2048;
    volumes = [{
      image = "pg2une-postgres-replica-data.img";
      mountPoint = "/var/lib/postgresql";
      size = 20480;
    }];
  };

  services.postgresql = {
    enable = true;
    package = pg2unePostgresql;
    enableTCPIP = true;
    settings = cfg.postgresSettings;
    authentication = lib.mkForce ''
      local all         all                               peer
      host  all         postgres        ${cfg.network.subnet} trust
      host  replication ${cfg.replicationUser} ${cfg.network.subnet} trust
      host  all         all             ${cfg.network.subnet} scram-sha-256
    '';
  };

  # Runs before postgresql.service: with no cluster yet, copy the primary instead of initdb
  # (the postgresql unit only runs initdb when PG_VERSION is missing).
  systemd.services.pg2une-replica-bootstrap = {
    description = "Clone the pg2une primary for the canary (pg_basebackup -R)";
    wantedBy = [ "postgresql.service" ];
    before = [ "postgresql.service" ];
    after = [ "network-online.target" ];
    wants = [ "network-online.target" ];
    path = [ pg2unePostgresql ];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      User = "postgres";
      Group = "postgres";
    };
    script = ''
      if [ -e ${dataDir}/PG_VERSION ]; then exit 0; fi
      until pg_isready -h ${cfg.network.primary} -p ${toString cfg.postgresPort} -q; do sleep 1; done
      rm -rf ${dataDir}.partial
      pg_basebackup -h ${cfg.network.primary} -p ${toString cfg.postgresPort} -U ${cfg.replicationUser} \
        -D ${dataDir}.partial -R -X stream --checkpoint=fast --no-password
      mv ${dataDir}.partial ${dataDir}
    '';
  };
  systemd.tmpfiles.rules = [ "d /var/lib/postgresql 0755 postgres postgres -" ];

  networking.firewall.allowedTCPPorts = [ cfg.postgresPort ];
}
