{
  # pg2une: a development shell and the microVMs it tunes.
  #
  #   nix develop                       Node 20, PostgreSQL 17 (+ pg_stat_statements, hypopg,
  #                                     pg_qualstats, pg_hint_plan), PgBouncer; `npm install && npm start`
  #   nix build .#nixosConfigurations.pg2une-postgres-x86_64.config.microvm.declaredRunner
  #   nix run .#pg2une-postgres-x86_64  (same, as a package)
  #
  # microVM configurations (names are what the runner asks the mxc coordinator for):
  #   pg2une-postgres-<arch>          primary, 4 vCPU, 2048 MB
  #   pg2une-postgres-replica-<arch>  canary: streaming replica of the primary
  #   pg2une-pgbouncer-<arch>         PgBouncer, 1 vCPU, 256 MB
  # The runner itself is a NixOS module: nixosModules.runner (nix/runner-service.nix).
  description = "pg2une — PostgreSQL auto-tuner (Cloudflare Worker + on-host runner)";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    microvm = {
      url = "github:microvm-nix/microvm.nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    # Not packaged in nixpkgs; built from its release tag with nixpkgs' PGXS builder
    # (nix/postgresql.nix). flake.lock pins the exact source.
    pg_qualstats = {
      url = "github:powa-team/pg_qualstats/2.1.1";
      flake = false;
    };
  };

  outputs = { self, nixpkgs, microvm, pg_qualstats }:
    let
      lib = nixpkgs.lib;
      # <arch> in the microVM names → the Nix system.
      arches = { x86_64 = "x86_64-linux"; aarch64 = "aarch64-linux"; };
      shellSystems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forSystems = systems: f: lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});

      postgresqlFor = pkgs: import ./nix/postgresql.nix { inherit pkgs pg_qualstats; };

      microvmConfig = arch: role: lib.nixosSystem {
        system = arches.${arch};
        specialArgs = { pg2unePostgresql = postgresqlFor nixpkgs.legacyPackages.${arches.${arch}}; };
        modules = [
          microvm.nixosModules.microvm
          ./nix/common.nix
          ./nix/${role}.nix
        ];
      };

      roles = [ "postgres" "postgres-replica" "pgbouncer" ];
      configurations = lib.listToAttrs (lib.concatMap
        (arch: map (role: lib.nameValuePair "pg2une-${role}-${arch}" (microvmConfig arch role)) roles)
        (lib.attrNames arches));
    in
    {
      nixosConfigurations = configurations;

      # `nix run .#pg2une-postgres-x86_64` boots that microVM with its declared hypervisor.
      packages = lib.mapAttrs'
        (arch: system: lib.nameValuePair system (lib.listToAttrs (map
          (role: lib.nameValuePair "pg2une-${role}-${arch}"
            configurations."pg2une-${role}-${arch}".config.microvm.declaredRunner)
          roles)))
        arches;

      nixosModules = {
        runner = ./nix/runner-service.nix;
        default = self.nixosModules.runner;
      };

      devShells = forSystems shellSystems (system: pkgs:
        let postgresql = postgresqlFor pkgs; in {
          default = pkgs.mkShell {
            packages = [ pkgs.nodejs_20 postgresql pkgs.pgbouncer ];
            # pg2une finds PostgreSQL through PG_BIN first; point it at the build with the extensions.
            shellHook = ''
              export PG_BIN=${postgresql}/bin
              echo "pg2une dev shell: node $(node --version), $(${postgresql}/bin/postgres --version), PG_BIN=$PG_BIN"
            '';
          };
        });
    };
}
