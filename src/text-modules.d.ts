// Files bundled as text by the `[[rules]] type = "Text"` entries in wrangler.toml.
declare module "*.dl" {
  const source: string;
  export default source;
}
