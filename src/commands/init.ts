import { cp, mkdir, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { DEFAULT_AUTHOR, Git } from "../store/git.ts";

const templateDir = fileURLToPath(new URL("../../config-repo-template/", import.meta.url));

/** Creates a new config repository from config-repo-template/, as one initial commit. */
export async function initRepository(dir: string): Promise<void> {
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new Error(`${dir} already exists and is not empty`);
  await mkdir(dir, { recursive: true });
  await cp(templateDir, dir, { recursive: true });
  const git = new Git(dir);
  await git.raw(["init", "-q", "--initial-branch=main"]);
  await git.raw(["add", "-A"]);
  await git.raw(["-c", `user.name=${DEFAULT_AUTHOR.name}`, "-c", `user.email=${DEFAULT_AUTHOR.email}`, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "Create config repository from the configserver template"]);
}

export function addInitCommand(program: Command): void {
  program
    .command("init")
    .description("create a new config repository from the template")
    .argument("<dir>", "directory to create (must be missing or empty)")
    .action(async (dir: string) => {
      await initRepository(dir);
      console.log(`Created a config repository in ${dir}. Serve it with: configserver serve --repo ${dir}`);
    });
}
