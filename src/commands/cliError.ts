/**
 * A command that cannot run as asked (a missing folder, an option that needs another): cli.ts
 * prints the message as is, without a stack, and exits with `exitCode`. 2 keeps "could not run"
 * apart from 1, "ran and found problems" (validate), so CI can tell a typo from a broken config.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "CliError";
  }
}
