import { Option, type Command } from "commander";
import { CliError } from "./cliError.ts";
import type { RolloutCliOptions } from "./runRollout.ts";

const ACTIONS = {
  pause: "stop advancing (agents that have the new version keep it)",
  resume: "go on (a halted rollout: its failures so far are accepted)",
  promote: "go straight to the last wave (every agent), still watched for failures",
  abort: "halt and revert now: everyone back on the previous version (a revert commit)",
} as const;

export function addRolloutCommand(program: Command): void {
  const rollout = program.command("rollout").description("progressive rollouts: list, show, pause, resume, promote, abort (see docs/rollouts.md)");
  const common = (c: Command, local: boolean) => {
    c.option("--server <url>", "a running server (its /api/v1/rollouts)")
      .option("--token <token>", "bearer token for --server's User API, when it requires one")
      .option("--json", "print the API's JSON");
    if (local) {
      c.addOption(new Option("--repo <dir>", "read the rollout state a server keeps in this repository's .git (no server needed)").conflicts(["server"]))
        .option("--config <file>", "a serve settings file to take \"repo:\" from (env CONFIGSERVER_CONFIG)");
    }
    return c;
  };
  common(rollout.command("list").description("every rollout: config, versions, state, wave, counts"), true).action(async (o: RolloutCliOptions) => {
    const { listRollouts } = await import("./runRollout.ts");
    console.log(await listRollouts(o));
  });
  common(rollout.command("show").description("one rollout: waves with counts, failures, history").argument("<config>", "config name"), true).action(async (name: string, o: RolloutCliOptions) => {
    const { showRollout } = await import("./runRollout.ts");
    console.log(await showRollout(name, o));
  });
  for (const [action, what] of Object.entries(ACTIONS)) {
    common(rollout.command(action).description(what).argument("<config>", "config name"), false)
      .option("--author <who>", 'recorded as who did it: "Name <email>" (sent as X-Configserver-Author)')
      .action(async (name: string, o: RolloutCliOptions & { author?: string }) => {
        if (o.server === undefined) throw new CliError(`rollout ${action} asks a running server: pass --server URL`);
        const { actOnRollout } = await import("./runRollout.ts");
        console.log(await actOnRollout(name, action as keyof typeof ACTIONS, { ...o, server: o.server }));
      });
  }
}
