/** A registry setting without its password, for logs and /status. */
export function redactUrl(text: string): string {
  try {
    const u = new URL(text);
    if (!u.password) return text;
    u.password = "***";
    return u.toString();
  } catch {
    return text;
  }
}
