/** Names become file names in the repository, so they are restricted to a portable, safe set. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export function nameRuleMessage(kind: "config" | "agent group" | "instance config", name: string): string {
  return `Invalid ${kind} name ${JSON.stringify(name)}: a name must match ${NAME_PATTERN.source} (start with a letter or digit; then letters, digits, '.', '_' or '-'; at most 128 characters).`;
}
