import { isOpampConfig } from "../domain/opampConfigs.ts";
import type { Pos, Problem } from "../domain/types.ts";
import { CONFIG_DIR, INSTANCE_DIR, type RepoContent } from "./repoContent.ts";
import { parseConfigFile, parseInstanceConfigFile } from "./yaml/parseFiles.ts";
import { pipelineJson, type DetailLimits } from "./yaml/pipelineJson.ts";

type Parse = (file: string, text: string) => { value?: { spec: { name: string }; contentPos: Pos } };

/**
 * Warnings (not problems: the server still serves the commit) for the configs and instance
 * configs v2 agents will not receive because their content is not a mapping. The same
 * pipelineJson the server renders details with decides, so validate and /status agree.
 */
export function notForV2Warnings(files: ReadonlyMap<string, string>, content: RepoContent, limits: DetailLimits): Problem[] {
  const warnings: Problem[] = [];
  const check = (kind: string, dir: string, specs: readonly { name: string; content: string }[], parse: Parse, others: string) => {
    for (const spec of specs) {
      const json = pipelineJson(spec.content, limits);
      if (!("problem" in json)) continue;
      const at = locate(files, dir, spec.name, parse);
      warnings.push({ file: at.file, line: at.pos.line, column: at.pos.column, message: `${kind} ${JSON.stringify(spec.name)} will not be sent to v2 agents: ${json.problem}${others}` });
    }
  };
  // OpAMP configs never go to v2 agents: nothing to warn about.
  check("config", CONFIG_DIR, content.configs.filter((c) => !isOpampConfig(c)), parseConfigFile, "; alpha and v1 agents still receive it as written");
  check("instance config", INSTANCE_DIR, content.instanceConfigs, parseInstanceConfigFile, "");
  return warnings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

/**
 * The file defining `name` and where its content starts. Usually `<dir>/<name>.yaml`; when the
 * name does not match its file (already a problem), the folder is searched. Only configs that
 * draw a warning are parsed again, so a clean repository costs nothing here.
 */
function locate(files: ReadonlyMap<string, string>, dir: string, name: string, parse: Parse): { file: string; pos: Pos } {
  const own = `${dir}/${name}.yaml`;
  const candidates = [own, ...[...files.keys()].filter((f) => f !== own && f.startsWith(`${dir}/`)).sort()];
  for (const file of candidates) {
    const text = files.get(file);
    if (text === undefined) continue;
    const parsed = parse(file, text).value;
    if (parsed?.spec.name === name) return { file, pos: parsed.contentPos };
  }
  return { file: own, pos: { line: 1, column: 1 } };
}
