/** A connection URL with its password hidden, for log lines and error messages. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(typeof url === "string" ? url : url.href);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
