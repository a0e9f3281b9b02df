import { DomainError } from "../domain/errors.ts";

/** The agent id of an alpha or v1 request: required, in the words those protocols' servers use. */
export function agentId(id: string | null | undefined): string {
  if (!id) throw new DomainError("BadRequest", "Need parameter AgentID.");
  return id;
}
