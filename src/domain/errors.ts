/** The protocol's `code` strings (PROTOCOL.md §3) plus the two our extensions add. */
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
