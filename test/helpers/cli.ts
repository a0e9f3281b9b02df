import { execFile } from "node:child_process";
import { builtBin } from "./bin.ts";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without the developer's CONFIGSERVER_* settings, plus `env`. */
export function cliEnv(env: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CONFIGSERVER_"))), ...env };
}

/** Runs the real `configserver` executable as a child process, as CI or a person would. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const bin = builtBin();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { cwd: options.cwd, env: cliEnv(options.env), encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
  });
}
