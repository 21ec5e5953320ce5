# PostgreSQL 17 with the extensions pg2une uses:
#   pg_stat_statements  (contrib, ships with postgresql)  query statistics — required
#   hypopg              hypothetical indexes for costing index candidates
#   pg_qualstats        predicate statistics for index candidates (built here: not in nixpkgs)
#   pg_hint_plan        planner hints
# Used by the dev shell (flake.nix) and every microVM (nix/common.nix), so all run the same build.
{ pkgs, pg_qualstats }:
let
  postgresql = pkgs.postgresql_17;
  qualstats = postgresql.pkgs.callPackage
    ({ postgresqlBuildExtension }: postgresqlBuildExtension {
      pname = "pg_qualstats";
      version = "2.1.1";
      src = pg_qualstats;
      meta = {
        description = "PostgreSQL extension collecting statistics about predicates";
        homepage = "https://github.com/powa-team/pg_qualstats";
        license = pkgs.lib.licenses.postgresql;
      };
    })
    { };
in
postgresql.withPackages (ps: [ ps.hypopg ps.pg_hint_plan qualstats ])
