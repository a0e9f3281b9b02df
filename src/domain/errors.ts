/** The alpha protocol's `code` strings (the reference ConfigServer's; src/http/errors.ts gives each its HTTP status) plus the three our extensions add. */
export type ErrorCode =
  | "BadRequest"
  | "InvalidParameter"
  | "AgentGroupAlreadyExist"
  | "ConfigAlreadyExist"
  | "AgentAlreadyExist"
  | "AgentGroupNotExist"
  | "ConfigNotExist"
  | "AgentNotExist"
  | "InternalServerError"
  | "RequestTimeout"
  | "ServerBusy"
  | "Forbidden"
  | "Unauthorized"
  /**
   * The repository's state blocks the write, not the request or the server: a config still
   * applied, a refused HEAD, someone's uncommitted edit of the file. The JSON API answers it (409);
   * a protocol route answers `protocolCode` instead, as protocols know no such code.
   */
  | "Conflict";

/** An expected failure with a protocol code; the HTTP layer maps the code to a status. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /**
     * For a Conflict: the code a protocol route (the alpha User API) answers, where the reference
     * ConfigServer defines one; absent, it answers ServerBusy (retry once a person fixed it).
     */
    readonly protocolCode?: Exclude<ErrorCode, "Conflict">,
  ) {
    super(message);
    this.name = "DomainError";
  }
}
