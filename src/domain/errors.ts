/** The alpha protocol's `code` strings (the reference ConfigServer's; src/http/errors.ts gives each its HTTP status) plus the two our extensions add. */
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
  | "Unauthorized";

/** An expected failure with a protocol code; the HTTP layer maps the code to a status. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}
