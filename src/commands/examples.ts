import type { Command } from "commander";

/** What each command's `--help` ends with: commands people can copy, the common cases first. */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  "": [
    "configserver init ./config-repo                     # a new repository from the template",
    "configserver serve --repo ./config-repo             # serve it on 127.0.0.1:8899",
    "configserver validate ./config-repo                 # what the server checks, for CI",
    "configserver history nginx-access --repo ./config-repo",
    "configserver rollback nginx-access --to 12 --server http://127.0.0.1:8899",
    "configserver <command> --help                       # each command's options and examples",
  ],
  serve: [
    "configserver serve --repo ./config-repo",
    "configserver serve --repo /srv/configs --host 0.0.0.0 --port 8899 --user-token-file /etc/configserver/token",
    "configserver serve --config /etc/configserver/configserver.yaml",
    "configserver serve --repo /srv/configs --remote git@github.com:acme/configs.git --webhook-secret-file /etc/configserver/webhook",
    "CONFIGSERVER_PORT=9000 configserver serve --repo ./config-repo",
  ],
  init: [
    "configserver init ./config-repo",
    "configserver init ./config-repo --package https://example.com/configserver-0.1.0.tgz",
  ],
  validate: [
    "configserver validate                               # the current folder",
    "configserver validate ./config-repo --format json",
    "configserver validate . --base origin/main --preview-file preview.md   # in a pull request's CI",
  ],
  history: [
    "configserver history nginx-access --repo ./config-repo",
    "configserver history node-send-limit --instance --format json",
  ],
  rollback: [
    "configserver rollback nginx-access --to 12 --server http://127.0.0.1:8899 --author \"Ann Example <ann@example.com>\" --message \"Back to the working regex\"",
    "configserver rollback nginx-access --to 12 --repo ./config-repo   # no server: commit locally, push it yourself",
    "configserver history nginx-access --repo ./config-repo            # find the version first ([served] is what agents hold)",
  ],
  import: [
    "configserver import --from http://old-configserver:8899 --repo ./config-repo --dry-run",
    "configserver import --from http://old-configserver:8899 --protocol alpha --repo ./config-repo",
  ],
};

/**
 * Ends every command's help with its examples, and makes a usage error (an unknown option, a
 * missing argument) print the error, commander's suggestion and one line pointing to --help,
 * not the whole help (80 lines for serve).
 */
export function addExamplesAndUsageHints(program: Command): void {
  for (const cmd of [program, ...program.commands]) {
    const name = cmd === program ? "" : cmd.name();
    const examples = EXAMPLES[name];
    if (examples) cmd.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}`);
    cmd.showHelpAfterError(`Run "configserver${name ? ` ${name}` : ""} --help" for its options and examples.`);
  }
}
