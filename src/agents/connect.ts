import { FindError } from '../records/agent-finder.ts'
import type { ConnectRequest, ConnectView, ForwardView, FoundAgent } from '../control/api.ts'
import type { AgentFinder } from '../records/agent-finder.ts'
import type { ForwardManager } from '../forward/forward-manager.ts'

export interface ConnectComponents {
  forwards: ForwardManager
  agents: AgentFinder
}

/**
 * `connect --skill S | --tool T | <member>/<service>`: the nearest member's agent with
 * that skill or tool (find), or the one named, through a forward on a free loopback
 * port; a forward this node already has to the same agent is reused. The URL has the
 * agent's path (an MCP endpoint such as `/mcp`), so a client takes it as it is.
 */
export async function connectAgent (request: ConnectRequest, { forwards, agents }: ConnectComponents): Promise<ConnectView> {
  let target = request.target
  let network = request.network
  let found: FoundAgent | undefined
  if (target == null) {
    found = (await agents.find({ skill: request.skill, tool: request.tool, network }))[0]
    if (found == null) {
      const what = request.tool != null ? `an MCP server with tool "${request.tool}"` : `an agent with skill "${request.skill ?? ''}"`
      throw new FindError(`no member ${network == null ? 'of this node\'s networks' : `of ${network}`} serves ${what}, or none answers: agentmesh find`)
    }
    target = `${found.member}/${found.service}`
    network = found.network
  } else if (request.skill != null || request.tool != null) {
    throw new FindError('give <member>/<service>, or --skill or --tool, not both')
  }
  const slash = target.lastIndexOf('/')
  const [who, service] = [target.slice(0, slash), target.slice(slash + 1)]
  const existing = forwards.list().find(forward => reusable(forward, who, service, network))
  const forward = existing ?? await forwards.add('127.0.0.1:0', target, { ...(network != null && { network }) })
  // an agent named by the user: its path and kind from its capability record, when it has one
  found ??= await agents.describe(forward.peer, service, network)
  return {
    url: `http://${forward.listen}${found?.path ?? '/'}`,
    listen: forward.listen,
    peer: forward.peer,
    service,
    ...(found != null && { member: found.member, network: found.network, kind: found.kind }),
    ...(found == null && network != null && { network }),
    reused: existing != null
  }
}

/** A loopback forward of this node's own (not a map's, not a gateway) to that agent, in that network when one is named. */
function reusable (forward: ForwardView, who: string, service: string, network: string | undefined): boolean {
  return forward.listening && forward.map == null && forward.gateway !== true && forward.service === service &&
    (forward.name === who || forward.peer === who) && (network == null || forward.network === network)
}
