# pg2une-pgbouncer-<arch>: the traffic router in front of primary and canary. 1 vCPU, 256 MB.
#
# Not services.pgbouncer: that module renders pgbouncer.ini into the read-only Nix store, but
# pg2une rewrites the ini at run time (canary weights) and then sends RELOAD on the admin
# console. So the live ini is /var/lib/pg2une-pgbouncer/pgbouncer.ini, seeded on first boot from
# the default below, which has the same shape runner/pgbouncer/config.ts renders:
#   rw = the primary only; admin console `pgbouncer` for user `postgres`; no unix socket.
{ config, lib, pkgs, ... }:
let
  cfg = config.pg2une;
  stateDir = "/var/lib/pg2une-pgbouncer";
  defaultIni = pkgs.writeText "pgbouncer.ini" ''
    ; pg2une default (first boot); the live copy is ${stateDir}/pgbouncer.ini
    [databases]
    rw = host=${cfg.network.primary} port=${toString cfg.postgresPort} dbname=postgres

    [pgbouncer]
    listen_addr = ${cfg.address}
    listen_port = ${toString cfg.pgbouncerPort}
    unix_socket_dir =
    pidfile = ${stateDir}/pgbouncer.pid
    auth_type = trust
    auth_file = ${stateDir}/userlist.txt
    admin_users = postgres
    stats_users = postgres
    pool_mode = session
    default_pool_size = 20
    min_pool_size = 0
    max_client_conn = 200
    server_round_robin = 0
    ignore_startup_parameters = extra_float_digits
    server_check_delay = 10
  '';
  defaultUsers = pkgs.writeText "userlist.txt" ''
    "postgres" ""
  '';
in
{
  pg2une.address = cfg.network.pgbouncer;
  pg2une.mac = "02:00:00:23:00:02";
  pg2une.tapId = "vm-pg2une-pgb";

  networking.hostName = "pg2une-pgbouncer";

  microvm = {
    vcpu = 1;
    mem = 256;
    volumes = [{
      image = "pg2une-pgbouncer-state.img";
      mountPoint = stateDir;
      size = 64;
    }];
  };

  users.users.pgbouncer = { isSystemUser = true; group = "pgbouncer"; home = stateDir; };
  users.groups.pgbouncer = { };

  systemd.services.pg2une-pgbouncer = {
    description = "PgBouncer for pg2une (rw → primary; canary share set at run time)";
    wantedBy = [ "multi-user.target" ];
    after = [ "network-online.target" ];
    wants = [ "network-online.target" ];
    preStart = ''
      [ -e ${stateDir}/pgbouncer.ini ] || install -m 0640 ${defaultIni} ${stateDir}/pgbouncer.ini
      [ -e ${stateDir}/userlist.txt ] || install -m 0600 ${defaultUsers} ${stateDir}/userlist.txt
    '';
    serviceConfig = {
      User = "pgbouncer";
      Group = "pgbouncer";
      ExecStart = "${pkgs.pgbouncer}/bin/pgbouncer ${stateDir}/pgbouncer.ini";
      # SIGHUP = reload, like RELOAD on the admin console.
      ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
      # SIGINT = safe shutdown: wait for clients instead of cutting them off.
      KillSignal = "SIGINT";
      TimeoutStopSec = 60;
      Restart = "on-failure";
      LimitNOFILE = 65536;
    };
  };
  systemd.tmpfiles.rules = [ "d ${stateDir} 0750 pgbouncer pgbouncer -" ];

  environment.systemPackages = [ pkgs.pgbouncer ];
  networking.firewall.allowedTCPPorts = [ cfg.pgbouncerPort ];
}
