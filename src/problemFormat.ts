import type { Problem } from "./domain/types.ts";

export type ProblemFormat = "text" | "json" | "github";

export interface FormatOptions {
  /** Shown before each file in text and GitHub output, so paths resolve from where the command ran. */
  readonly pathPrefix?: string;
  /** More top-level fields for JSON output (e.g. a change preview). */
  readonly extra?: Record<string, unknown>;
}

/**
 * Renders validation problems for people (text), tools (json) or GitHub Actions annotations.
 * JSON keeps repository-relative paths: the same problems the server reports for a commit.
 */
export function formatProblems(problems: readonly Problem[], format: ProblemFormat, counts: { configs: number; groups: number }, options: FormatOptions = {}): string {
  const path = (p: Problem) => (options.pathPrefix ?? "") + p.file;
  switch (format) {
    case "json":
      return JSON.stringify({ ok: problems.length === 0, configs: counts.configs, groups: counts.groups, problems, ...options.extra }, null, 2) + "\n";
    case "github":
      return (
        problems.map((p) => `::error file=${escapeProperty(path(p))},line=${p.line},col=${p.column},title=configserver validate::${escapeData(p.message)}\n`).join("") +
        summary(problems, counts)
      );
    case "text":
      return problems.map((p) => `${path(p)}:${p.line}:${p.column}: error: ${p.message}\n`).join("") + summary(problems, counts);
  }
}

function summary(problems: readonly Problem[], counts: { configs: number; groups: number }): string {
  return problems.length === 0
    ? `ok: ${counts.configs} config(s), ${counts.groups} agent group(s)\n`
    : `${problems.length} problem(s) found: the server would refuse to serve this and keep the last good commit\n`;
}

// GitHub workflow commands: data escapes %, CR, LF; properties also escape ':' and ','.
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
