import type { Command } from "commander";
import { PATH_HINT, selfCommand } from "./selfCommand.ts";

export function addInitCommand(program: Command): void {
  program
    .command("init")
    .description("create a new config repository from the template")
    .argument("<dir>", "folder to create (missing, empty, or a git repository with no commits yet)")
    .option("--package <spec>", "where the repository's CI installs the configserver CLI (CONFIGSERVER_PACKAGE): a release tarball URL, or a git URL ending in #<commit>")
    .option("--no-serve-hint", "do not print how to serve it (`make run` serves it right after)")
    .action(async (dir: string, o: { package?: string; serveHint: boolean }) => {
      const { CI_FILES, initRepository } = await import("./initRepository.ts");
      await initRepository(dir, o.package !== undefined ? { packageSpec: o.package } : {});
      const self = selfCommand();
      const hint = o.serveHint ? ` Serve it with: ${self.command} serve --repo ${dir}` : "";
      console.log(`Created a config repository in ${dir} from the template (one commit).${hint}`);
      if (o.serveHint && !self.onPath) console.log(PATH_HINT);
      if (o.package === undefined) console.log(`Its pull request check needs CONFIGSERVER_PACKAGE set in ${CI_FILES.join(" and ")}: see "The pull request check" in ${dir}/README.md.`);
    });
}
