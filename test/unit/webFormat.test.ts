// The console's pure helpers (web/src), which run in the browser but need no DOM.
import test from "ava";
import { remoteWeb } from "../../web/src/format.ts";
import { tokenizeLine } from "../../web/src/yaml.ts";

test("links to a remote's web pages are made only for known hosts, only as https", (t) => {
  const gh = remoteWeb("git@github.com:example/logtail-configs.git", "main");
  t.is(gh?.home, "https://github.com/example/logtail-configs");
  t.is(gh?.commit("abc123"), "https://github.com/example/logtail-configs/commit/abc123");
  t.is(gh?.newChange, "https://github.com/example/logtail-configs/compare/main");
  t.is(remoteWeb("https://gitlab.com/group/sub/repo.git")?.commit("ff"), "https://gitlab.com/group/sub/repo/-/commit/ff");
  t.is(remoteWeb("ssh://git@codeberg.org/me/cfg.git")?.home, "https://codeberg.org/me/cfg");
  for (const url of ["file:///srv/repo.git", "https://git.internal/x/y.git", "javascript:alert(1)//github.com/a/b", "https://github.com/a/../b", "git@github.com:x", "https://github.com/a/b\"onmouseover=x", undefined]) {
    t.is(remoteWeb(url), undefined, String(url));
  }
});

test("the YAML highlighter never changes the text", (t) => {
  const lines = ["config_name: nginx-access", "  - Type: input_file # the input", "  Regex: '([\\d\\.]+) \\S+ #x'", "content: |", '"quoted key": "v"', "- - nested", "", "   ", "plain text: with: colons", "<img src=x onerror=alert(1)>"];
  for (const line of lines) t.is(tokenizeLine(line).map((x) => x.text).join(""), line, line);
  t.true(tokenizeLine("enable: true").some((x) => x.kind === "key" && x.text === "enable"));
  t.true(tokenizeLine("enable: true").some((x) => x.kind === "bool"));
  t.true(tokenizeLine("  # note").some((x) => x.kind === "comment"));
});
