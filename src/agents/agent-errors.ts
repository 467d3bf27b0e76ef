import { UserError } from '../errors.ts'

/** An agent service that cannot be published: its card or tool list could not be read, or is not valid. One line, said to the user. */
export class AgentError extends UserError {
  override name = 'AgentError'
}
