import pkg from "../package.json";

/** The release, read from package.json at build time so there is one place to bump it. */
export const VERSION: string = pkg.version;
export const APP_NAME = "pg2une";
