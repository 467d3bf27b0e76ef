/**
 * The tools of an MCP server exposed with `--mcp`, asked the way an MCP client asks:
 * `initialize`, `notifications/initialized`, then `tools/list` page by page, over
 * Streamable HTTP at the service's own address.
 *
 * This uses the official SDK's client rather than JSON-RPC written here: Streamable HTTP
 * lets a server answer a POST with JSON or with an SSE stream, hand out a session id
 * that later requests must carry (and a DELETE ends), and settle on an older protocol
 * revision than the client's; the SDK follows every revision it supports, which is what
 * a user expects when their server works with other MCP clients.
 */

import { checkTerm, normaliseTerm } from '../../protocols/records/index.ts'
import { formatHostPort } from '../addresses/host-port.ts'
import { VERSION } from '../version.ts'
import { AGENT_READ_TIMEOUT_MS } from './agent-card.ts'
import { AgentError } from './agent-errors.ts'
import { boundedFetch, describeFetchError } from './bounded-fetch.ts'
import type { AgentInfo } from './agent-info.ts'
import type { HostPort } from '../addresses/host-port.ts'

/** The largest answer read: a `tools/list` page carries each tool's input schema. */
export const MAX_MCP_RESPONSE_BYTES = 1024 * 1024

/** Pages of `tools/list` read at most: a server that hands out cursors without end is refused. */
export const MAX_TOOL_PAGES = 16

/** The MCP endpoint when `--mcp-path` is not given: the path the SDKs' examples serve. */
export const DEFAULT_MCP_PATH = '/mcp'

/** Lists the tools of the MCP server at `address` and `path`; AgentError in one line when it cannot. */
export async function readMcpTools (address: HostPort, path: string): Promise<AgentInfo> {
  const where = `http://${formatHostPort(address)}${path}`
  const signal = AbortSignal.timeout(AGENT_READ_TIMEOUT_MS)
  // loaded here, not with the daemon: the SDK and its schema libraries are about 0.5 MiB of source a daemon without --mcp never runs
  const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js')
  ])
  const transport = new StreamableHTTPClientTransport(new URL(where), {
    fetch: boundedFetch(MAX_MCP_RESPONSE_BYTES, signal),
    reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 }
  })
  const client = new Client({ name: 'agentmesh', version: VERSION })
  const options = { signal, timeout: AGENT_READ_TIMEOUT_MS }
  try {
    await client.connect(transport, options)
    if (client.getServerCapabilities()?.tools == null) throw new AgentError(`the MCP server at ${where} offers no tools`)
    const names: string[] = []
    let cursor: string | undefined
    for (let page = 0; ; page++) {
      if (page === MAX_TOOL_PAGES) throw new AgentError(`the MCP server at ${where} lists tools on more than ${MAX_TOOL_PAGES} pages`)
      const answer = await client.listTools(cursor == null ? undefined : { cursor }, options)
      names.push(...answer.tools.map(tool => tool.name))
      cursor = answer.nextCursor
      if (cursor == null) break
    }
    const tools = [...new Set(names.map(normaliseTerm))].map(name => ({ id: checkTerm(name, 'tool name'), tags: [] }))
    const title = client.getServerVersion()?.name ?? ''
    return { kind: 'mcp', title, path, skills: tools }
  } catch (err: any) {
    if (err?.name === 'MalformedFieldError') throw new AgentError(`the MCP server at ${where}: ${err.message}`)
    throw new AgentError(describeFetchError(err, `the MCP server at ${where}`))
  } finally {
    await transport.terminateSession().catch(() => {})
    await client.close().catch(() => {})
  }
}
