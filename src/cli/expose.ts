import { optionList, optionText, printJson, UsageError } from './command.ts'
import type { Command } from './command.ts'

export const exposeCommand: Command = {
  name: 'expose',
  summary: 'offer a local TCP service under a name to the members of this node\'s networks and its trusted peers (--a2a, --mcp: an agent, found by its skills or tools)',
  usage: '<service> <host:port> [--proto tcp|http|grpc|ssh] [--allow <peerId|name|@group>]... [--network NAME]... [--proxy-protocol] [--publish] [--a2a | --mcp [--mcp-path /mcp]] [--json]',
  help: {
    flags: [
      ['--proto tcp|http|grpc|ssh', 'the inner protocol, carried in the envelope (default tcp)'],
      ['--allow PEER|NAME|@GROUP', 'only these peers, member names or groups (repeatable; default: every member and trusted peer)'],
      ['--network NAME', 'offer it in this network only (repeatable; default: all of this node\'s networks)'],
      ['--proxy-protocol', 'put a PROXY protocol v2 header naming the caller in front of each connection'],
      ['--publish', 'list it in this node\'s member record, so members find it with services --all'],
      ['--a2a', 'an A2A agent: its card is read from the service and its skills published'],
      ['--mcp', 'an MCP server: its tools are listed and published'],
      ['--mcp-path PATH', 'the MCP endpoint (default /mcp)']
    ],
    examples: ['agentmesh expose ssh 127.0.0.1:22 --proto ssh --allow @ops', 'agentmesh expose web 127.0.0.1:8080 --proto http --publish', 'agentmesh expose translator 127.0.0.1:9000 --a2a']
  },
  options: {
    proto: { type: 'string' },
    allow: { type: 'string', multiple: true },
    network: { type: 'string', multiple: true },
    'proxy-protocol': { type: 'boolean' },
    publish: { type: 'boolean' },
    a2a: { type: 'boolean' },
    mcp: { type: 'boolean' },
    'mcp-path': { type: 'string' }
  },
  positionals: [2, 2],
  async run ({ client, json, values, positionals }) {
    const [name, target] = positionals
    if (values.a2a === true && values.mcp === true) throw new UsageError('--a2a and --mcp: a service is one or the other')
    const agent = values.a2a === true ? 'a2a' : values.mcp === true ? 'mcp' : undefined
    const service = await client.expose({
      name,
      target,
      proto: optionText(values.proto),
      allow: optionList(values.allow),
      networks: optionList(values.network),
      proxyProtocol: values['proxy-protocol'] === true,
      publish: values.publish === true,
      agent,
      mcpPath: optionText(values['mcp-path'])
    })
    if (json) return printJson(service)
    const who = `${service.allow.length === 0 ? 'every member' : service.allow.join(', ')} of ${service.networks.length === 0 ? 'every network of this node' : service.networks.join(', ')}, and trusted peers`
    process.stdout.write(`exposed ${service.name} -> ${service.target} (${service.proto}) to ${who}${service.proxyProtocol ? ', with a PROXY v2 header' : ''}${service.publish ? ', published in its member records' : ''}${service.up ? '' : ': nothing listens there yet'}\n`)
    if (service.agent != null) {
      const what = service.agent.kind === 'a2a' ? `A2A agent "${service.agent.title}", skills` : `MCP server${service.agent.title === '' ? '' : ` "${service.agent.title}"`} at ${service.agent.path}, tools`
      process.stdout.write(`${what}: ${service.agent.skills.map(skill => skill.tags.length === 0 ? skill.id : `${skill.id} (${skill.tags.join(', ')})`).join(', ') || 'none'}\n`)
    }
  }
}
