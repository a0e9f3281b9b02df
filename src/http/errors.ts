import type { ErrorCode } from "../domain/errors.ts";

/** The one table from a protocol code (src/domain/errors.ts) to its HTTP status, as the reference ConfigServer answers them, plus our extensions. */
export const HTTP_STATUS: Readonly<Record<ErrorCode | "Accept", number>> = {
  Accept: 200,
  BadRequest: 400,
  InvalidParameter: 400,
  AgentGroupAlreadyExist: 400,
  ConfigAlreadyExist: 400,
  AgentAlreadyExist: 400,
  Unauthorized: 401,
  Forbidden: 403,
  Conflict: 409,
  AgentGroupNotExist: 404,
  ConfigNotExist: 404,
  AgentNotExist: 404,
  InternalServerError: 500,
  RequestTimeout: 500,
  ServerBusy: 503,
};

/** A protocol-neutral code: the key of the one table. */
export type Code = keyof typeof HTTP_STATUS;
