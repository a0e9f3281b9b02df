import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { git, tempDir } from "./git.ts";

/** Writes state files the way a person would, for a commit made with real git. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

export const configYaml = (name: string, content: string) =>
  `config_name: ${name}\nagent_type: ilogtail\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;

export const instanceYaml = (name: string, content: string) => `config_name: ${name}\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;

export const groupYaml = (name: string, configs: string[], tags: [string, string][] = [], instances?: string[]) =>
  `group_name: ${name}\ndescription: ""\ntags: ${JSON.stringify(tags.map(([n, v]) => ({ name: n, value: v })))}\nconfigs: ${JSON.stringify(configs)}\n${instances ? `instance_configs: ${JSON.stringify(instances)}\n` : ""}`;

/** Commits files in a work tree as a person; returns the new commit hash. */
export function commitFiles(dir: string, files: Record<string, string>, message = "change by a person"): string {
  writeFiles(dir, files);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", message);
  return git(dir, "rev-parse", "HEAD").trim();
}

/** A new repository (a temp folder named after `prefix`) whose first commit holds `files`, as a person made it. */
export function repoWith(prefix: string, files: Record<string, string>, message = "change by a person"): string {
  const dir = tempDir(prefix);
  git(dir, "init", "-q", "--initial-branch=main");
  commitFiles(dir, files, message);
  return dir;
}

/** A bare repository standing in for GitHub/GitLab, plus a person's clone of it holding `files`. */
export function bareRemote(files: Record<string, string>): { bare: string; url: string; person: string } {
  const bare = tempDir("cs-bare-");
  git(bare, "init", "-q", "--bare", "--initial-branch=main");
  const person = tempDir("cs-person-");
  git(person, "init", "-q", "--initial-branch=main");
  git(person, "remote", "add", "origin", bare);
  commitFiles(person, files, "initial state");
  git(person, "push", "-q", "origin", "main");
  return { bare, url: `file://${bare}`, person };
}
