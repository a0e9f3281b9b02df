import { randomInt } from "node:crypto";
import type { ExecutionContext } from "ava";

/** mulberry32: a tiny PRNG, the same numbers for the same seed on every machine. Values in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The random numbers of a fault test: from the seed in `env[name]` when set (replaying a failure),
 * else from a new seed. The seed is logged either way, so a failure prints how to replay it.
 */
export function seededRandom(t: ExecutionContext, name: string, env: NodeJS.ProcessEnv = process.env): () => number {
  const given = env[name];
  const seed = given !== undefined && given !== "" ? Number(given) : randomInt(2 ** 31);
  if (!Number.isSafeInteger(seed)) throw new Error(`${name}=${given ?? ""} is not an integer seed`);
  t.log(`${name}=${seed}${given !== undefined && given !== "" ? " (given)" : ""} replays these random moments`);
  return prng(seed);
}
