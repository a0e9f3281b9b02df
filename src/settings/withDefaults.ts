import { DEFAULTS, type Defaults, type Settings } from "./options.ts";

/**
 * The options with every setting not given at its default: applied once, at the start, so no
 * code below falls back on a value of its own (an explicit `undefined` counts as not given).
 */
export function withDefaults<O extends Partial<Settings>>(given: O): Readonly<Omit<O, keyof Defaults> & Defaults> {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return Object.freeze({ ...DEFAULTS, ...set }) as Omit<O, keyof Defaults> & Defaults;
}
