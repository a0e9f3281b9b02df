import { Option, type Command } from "commander";
import type { ImportOptions } from "./runImport.ts";

export function addImportCommand(program: Command): void {
  program
    .command("import")
    .description("read every agent group, config and binding from a running ConfigServer's User API and commit them into a config repository")
    .requiredOption("--from <url>", "the source server, e.g. http://old-configserver:8899")
    .addOption(new Option("--protocol <protocol>", "the source's User API: v1 (the community ConfigServer) or alpha (the reference Go server, or this server)").choices(["v1", "alpha"]).default("v1"))
    .requiredOption("--repo <dir>", "the config repository to write into (created when missing or empty)")
    .option("--dry-run", "read the source and show what would be written, without writing anything")
    .option("--token <token>", "bearer token for the source's User API, when it requires one")
    .action(async (o: ImportOptions) => {
      const { runImport, ImportRefused } = await import("./runImport.ts");
      try {
        const report = await runImport(o, (line) => console.error(line));
        console.log(report.summary);
      } catch (e) {
        // The source has problems to fix there (1); anything else could not run (cli.ts: 2).
        if (!(e instanceof ImportRefused)) throw e;
        console.error(e.message);
        process.exitCode = 1;
      }
    });
}
