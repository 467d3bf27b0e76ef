import { optionList, optionText, printJson, UsageError } from './command.ts'
import type { Command } from './command.ts'

export const exposeCommand: Command = {
  name: 'expose',
  summary: 'offer a local TCP service under a name to the members of this node\'s networks and its trusted peers (--a2a, --mcp: an agent, found by its skills or tools)',
  usage: '<service> <host:port> [--proto tcp|http|grpc|ssh] [--allow <peerId|name|@group>]... [--network NAME]... [--proxy-protocol] [--publish] [--a2a | --mcp [--mcp-path /mcp]] [--json]',
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
