import { realpathSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, relative } from "node:path";

const same = (a: string, b: string) => {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
};

/**
 * How the person can run this CLI again, for the commands a message suggests: `configserver` when
 * that name on the PATH is this program, else the path it was started by (e.g. ./bin/configserver
 * after `make run`). `onPath` says which, so the message can tell how to put it there.
 */
export function selfCommand(env: NodeJS.ProcessEnv = process.env, script = process.argv[1] ?? "configserver"): { command: string; onPath: boolean } {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "configserver");
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile() && same(candidate, script)) return { command: "configserver", onPath: true };
  }
  const rel = isAbsolute(script) ? relative(process.cwd(), script) : script;
  return { command: rel.startsWith("..") || isAbsolute(rel) ? script : `./${rel}`, onPath: false };
}

/** The line that says how to get `configserver` on the PATH (README.md, "Installing"). */
export const PATH_HINT = "To run it as `configserver`: npm install -g <a configserver tarball or git URL>, or `npm link` in a clone (README.md, \"Installing\").";
