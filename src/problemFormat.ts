import type { Problem } from "./domain/types.ts";

export type ProblemFormat = "text" | "json" | "github";

/** Renders validation problems for people (text), tools (json) or GitHub Actions annotations. */
export function formatProblems(problems: readonly Problem[], format: ProblemFormat, counts: { configs: number; groups: number }): string {
  switch (format) {
    case "json":
      return JSON.stringify({ ok: problems.length === 0, configs: counts.configs, groups: counts.groups, problems }, null, 2) + "\n";
    case "github":
      return problems.map((p) => `::error file=${p.file},line=${p.line},col=${p.column}::${escapeAnnotation(p.message)}\n`).join("") + summary(problems, counts);
    case "text":
      return problems.map((p) => `${p.file}:${p.line}:${p.column}: error: ${p.message}\n`).join("") + summary(problems, counts);
  }
}

function summary(problems: readonly Problem[], counts: { configs: number; groups: number }): string {
  return problems.length === 0
    ? `ok: ${counts.configs} config(s), ${counts.groups} agent group(s)\n`
    : `${problems.length} problem(s) found\n`;
}

function escapeAnnotation(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
