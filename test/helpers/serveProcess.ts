import { spawn, type ChildProcess } from "node:child_process";
import { builtBin } from "./bin.ts";
import { cliEnv } from "./cli.ts";
import { waitFor } from "./server.ts";

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Parsed JSON log lines so far (stdout is not a TTY, so pino writes JSON). */
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** The listening URL, once the server logged it. */
  url(): Promise<string>;
}

export interface ServeProcessOptions {
  /** Stop reading stdout once the server listens: its log pipe then fills and is never drained. */
  readonly stopReadingStdout?: boolean;
}

/** Spawns the real `configserver serve` as an operator (or systemd) would. */
export function serveProcess(args: readonly string[], env: Record<string, string> = {}, cwd?: string, options: ServeProcessOptions = {}): ServeProcess {
  const child = spawn(process.execPath, [builtBin(), "serve", ...args], { cwd, env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  const logs: Record<string, unknown>[] = [];
  let buffered = "";
  let stderr = "";
  const onData = (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
    if (options.stopReadingStdout && logs.some((l) => l.msg === "configserver listening")) {
      child.stdout?.off("data", onData);
      child.stdout?.pause();
    }
  };
  child.stdout?.setEncoding("utf8").on("data", onData);
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    url: async () => {
      const line = await waitFor(() => {
        if (done) throw new Error(`configserver exited before listening: ${stderr}`);
        return logs.find((l) => l.msg === "configserver listening");
      }, { timeoutMs: 20_000 });
      return line.url as string;
    },
  };
}
