import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROLES, type NamedToken, type Role } from "../domain/access.ts";
import { parseIdentity } from "../domain/identity.ts";

const FIELDS = ["name", "token", "tokenFile", "identity", "role", "setsAuthor"];

/**
 * The `tokens:` list of the settings file (given here as its JSON text): each entry a mapping of
 * name, token or tokenFile (relative to `base`), identity ("Name <email>", the commit author),
 * role and setsAuthor (default false). Every problem is named, by entry and field; a token's value
 * never appears in one.
 */
export function parseTokens(text: string, base: string): { value: readonly NamedToken[] } | { problem: string } {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list)) return { problem: 'must be a list of tokens, each {name, token or tokenFile, identity: "Name <email>", role: viewer|editor|admin, setsAuthor: true|false}' };
  const problems: string[] = [];
  const out: NamedToken[] = [];
  const names = new Map<string, number>();
  const values = new Map<string, string>();
  list.forEach((entry: unknown, i) => {
    const at = `entry ${i + 1}`;
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return void problems.push(`${at} is not a mapping`);
    const e = entry as Record<string, unknown>;
    const name = typeof e.name === "string" ? e.name.trim() : "";
    const who = name ? `${at} ("${name}")` : at;
    const bad = (p: string) => void problems.push(`${who}: ${p}`);
    for (const key of Object.keys(e)) if (!FIELDS.includes(key)) bad(`unknown field "${key}" (fields: ${FIELDS.join(", ")})`);
    if (!name || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) bad("needs a name: letters, digits, '.', '_' or '-', at most 64 characters");
    else if (names.has(name)) bad(`name "${name}" is used twice (also entry ${names.get(name)})`);
    else names.set(name, i + 1);
    let token: string | undefined;
    if (e.token !== undefined && e.tokenFile !== undefined) bad("has both token and tokenFile: give one");
    else if (typeof e.token === "string" && e.token.trim() !== "") token = e.token;
    else if (typeof e.tokenFile === "string" && e.tokenFile.trim() !== "") {
      const path = resolve(base, e.tokenFile.trim());
      try {
        token = readFileSync(path, "utf8").replace(/\r?\n$/, "");
        if (token === "") bad(`tokenFile ${path} is empty`);
      } catch (err) {
        bad(`tokenFile ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    } else bad("needs token or tokenFile (a file holding the token: keeps it out of this file)");
    if (token !== undefined && token !== "") {
      if (/\s/.test(token)) bad("its token contains white space (a bearer token cannot)");
      const other = values.get(token);
      if (other !== undefined) bad(`has the same token as "${other}": each token must be unique (it says who is asking)`);
      else values.set(token, name || at);
    }
    let identity: NamedToken["identity"];
    if (typeof e.identity !== "string") bad('needs an identity, "Name <email>": the commit author of its writes');
    else {
      const p = parseIdentity(e.identity);
      if ("problem" in p) bad(`identity ${JSON.stringify(e.identity)} is refused: ${p.problem}`);
      else identity = p;
    }
    const role = e.role;
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) bad(`role ${JSON.stringify(role ?? null)} is not one of ${ROLES.join(", ")}`);
    if (e.setsAuthor !== undefined && typeof e.setsAuthor !== "boolean") bad(`setsAuthor must be true or false, got ${JSON.stringify(e.setsAuthor)}`);
    if (token && identity) out.push(Object.freeze({ name, token, role: role as Role, identity, setsAuthor: e.setsAuthor === true }));
  });
  if (problems.length > 0) return { problem: problems.join("; ") };
  return { value: Object.freeze(out) };
}

/** The tokens as the start-up log shows them: everything but the token. */
export const describeTokens = (tokens: readonly NamedToken[]) =>
  tokens.map((t) => ({ name: t.name, role: t.role, identity: t.identity ? `${t.identity.name} <${t.identity.email}>` : null, setsAuthor: t.setsAuthor }));
