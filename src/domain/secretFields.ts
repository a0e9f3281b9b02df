/**
 * Pipeline fields that hold credentials, for the "secrets in pipelines" check: a value written
 * there in plain text ends up in git history, in every clone and in every agent's copy. Names
 * are matched case-insensitively, ignoring `_` and `-`, at any depth of a pipeline's mapping
 * (inputs, processors, flushers, extensions alike). A field that only names someone (a user
 * name) counts only under a key that says it is a login (`under`).
 *
 * Drawn from what LoongCollector's plugins take: flusher_sls and the SLS inputs (AccessKeyId,
 * AccessKeySecret, SecurityToken), flusher_kafka_v2 and flusher_elasticsearch
 * (Authentication.PlainText.Username/Password, Authentication.SASL.Username/Password),
 * flusher_http and others (Authorization headers, tokens), service inputs for databases and
 * Redis (Password).
 */
export const SECRET_FIELDS: readonly { readonly name: string; readonly under?: readonly string[] }[] = [
  { name: "AccessKeyId" },
  { name: "AccessKeySecret" },
  { name: "AccessKey" },
  { name: "SecretKey" },
  { name: "SecretAccessKey" },
  { name: "SecurityToken" },
  { name: "Password" },
  { name: "Passwd" },
  { name: "Token" },
  { name: "BearerToken" },
  { name: "ApiKey" },
  { name: "Authorization" },
  { name: "ClientSecret" },
  { name: "PrivateKey" },
  { name: "Username", under: ["SASL", "PlainText", "BasicAuth"] },
];

const normal = (name: string) => name.toLowerCase().replace(/[_-]/g, "");
const BY_NAME = new Map(SECRET_FIELDS.map((f) => [normal(f.name), f.under?.map(normal)]));

/** Whether a field named `name`, inside a field named `parent` (if any), holds a credential. */
export function isSecretField(name: string, parent: string | undefined): boolean {
  const n = normal(name);
  if (!BY_NAME.has(n)) return false;
  const under = BY_NAME.get(n);
  return under === undefined || (parent !== undefined && under.includes(normal(parent)));
}

/**
 * Whether a value keeps its secret out of the file: it uses one of LoongCollector's `${NAME}`
 * references, which the agent replaces with its environment variable (`Bearer ${TOKEN}` too).
 * Empty values hold nothing.
 */
export function isSecretSafe(value: string): boolean {
  if (value.trim() === "") return true;
  const open = value.indexOf("${");
  return open >= 0 && value.indexOf("}", open + 2) > open + 2;
}

/** What a plain-text credential is told: where it is and what to write instead. */
export function plainSecretMessage(path: string, name: string): string {
  const variable = name.replace(/[^A-Za-z0-9]+/g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
  return `${path} holds a credential in plain text: write a reference such as "\${${variable}}" instead and set that environment variable on the agents (LoongCollector replaces it), so the secret stays out of the repository`;
}
