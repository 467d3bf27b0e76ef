import { parseHostPort } from '../addresses/host-port.ts'
import { readAgentCard } from './agent-card.ts'
import { AgentError } from './agent-errors.ts'
import { AGENT_KINDS } from './agent-info.ts'
import { DEFAULT_MCP_PATH, readMcpTools } from './mcp-tools.ts'
import type { AgentInfo } from './agent-info.ts'

/** An absolute URL path, as `--mcp-path` takes it (SPEC.md of protocols/records, 12.3). */
const PATH_PATTERN = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]{0,127}$/

/**
 * What `expose --a2a` or `--mcp` publishes, read from the service at `target`: the A2A
 * agent's card, or the MCP server's tools at `mcpPath` (default `/mcp`). AgentError in
 * one line when the service does not answer or its answer is not valid.
 */
export async function readAgent (kind: string, target: string, mcpPath?: string): Promise<AgentInfo> {
  if (!(AGENT_KINDS as readonly string[]).includes(kind)) throw new AgentError(`agent kind ${kind}: expected one of ${AGENT_KINDS.join(', ')}`)
  if (mcpPath != null && kind !== 'mcp') throw new AgentError('--mcp-path goes with --mcp')
  if (mcpPath != null && !PATH_PATTERN.test(mcpPath)) throw new AgentError(`--mcp-path ${mcpPath}: expected an absolute URL path such as /mcp`)
  let address
  try {
    address = parseHostPort(target, { checkHost: true })
  } catch (err: any) {
    throw new AgentError(err.message)
  }
  return kind === 'a2a' ? readAgentCard(address) : readMcpTools(address, mcpPath ?? DEFAULT_MCP_PATH)
}
