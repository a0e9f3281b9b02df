import type { Problem } from "./domain/types.ts";

export type ProblemFormat = "text" | "json" | "github";

export interface FormatOptions {
  /** Shown before each file in text and GitHub output, so paths resolve from where the command ran. */
  readonly pathPrefix?: string;
  /** More top-level fields for JSON output (e.g. a change preview). */
  readonly extra?: Record<string, unknown>;
  /** Things the server serves anyway but someone should know (e.g. configs v2 agents cannot take). */
  readonly warnings?: readonly Problem[];
}

export interface Counts {
  readonly configs: number;
  readonly groups: number;
  readonly instanceConfigs: number;
}

/**
 * One problem as one line, `file:line:column: error: message` (the form editors and CI logs
 * link to): the CLI's text output, the server's log and its API messages all use it.
 */
export function formatProblem(p: Problem, pathPrefix = "", level: "error" | "warning" = "error"): string {
  return `${pathPrefix}${p.file}:${p.line}:${p.column}: ${level}: ${p.message}`;
}

/**
 * Renders validation problems for people (text), tools (json) or GitHub Actions annotations.
 * JSON keeps repository-relative paths: the same problems the server reports for a commit.
 * Warnings never make a repository fail: they are listed after the problems, marked as such.
 */
export function formatProblems(problems: readonly Problem[], format: ProblemFormat, counts: Counts, options: FormatOptions = {}): string {
  const warnings = options.warnings ?? [];
  const path = (p: Problem) => (options.pathPrefix ?? "") + p.file;
  switch (format) {
    case "json":
      return JSON.stringify({ ok: problems.length === 0, configs: counts.configs, instanceConfigs: counts.instanceConfigs, groups: counts.groups, problems, warnings, ...options.extra }, null, 2) + "\n";
    case "github": {
      const annotate = (level: string) => (p: Problem) => `::${level} file=${escapeProperty(path(p))},line=${p.line},col=${p.column},title=configserver validate::${escapeData(p.message)}\n`;
      return problems.map(annotate("error")).join("") + warnings.map(annotate("warning")).join("") + summary(problems, warnings, counts);
    }
    case "text": {
      const line = (level: "error" | "warning") => (p: Problem) => `${formatProblem(p, options.pathPrefix, level)}\n`;
      return problems.map(line("error")).join("") + warnings.map(line("warning")).join("") + summary(problems, warnings, counts);
    }
  }
}

function summary(problems: readonly Problem[], warnings: readonly Problem[], counts: Counts): string {
  const warned = warnings.length > 0 ? `; ${warnings.length} warning(s)` : "";
  return problems.length === 0
    ? `ok: ${counts.configs} config(s), ${counts.instanceConfigs} instance config(s), ${counts.groups} agent group(s)${warned}\n`
    : `${problems.length} problem(s) found: the server would refuse to serve this and keep the last good commit${warned}\n`;
}

// GitHub workflow commands: data escapes %, CR, LF; properties also escape ':' and ','.
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
