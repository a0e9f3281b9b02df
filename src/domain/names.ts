/** Names become file names in the repository, so they are restricted to a portable, safe set. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export function nameRuleMessage(kind: "config" | "agent group" | "instance config", name: string): string {
  return `Invalid ${kind} name ${JSON.stringify(name)}: a name must match ${NAME_PATTERN.source} (start with a letter or digit; then letters, digits, '.', '_' or '-'; at most 128 characters).`;
}

/**
 * The order everything named is listed in (configs, groups, reports, answers): by name, code unit
 * by code unit, so every protocol, the API and the files agree whatever the locale.
 */
export const byName = (a: { readonly name: string }, b: { readonly name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
