import { printJson } from './command.ts'
import type { Command } from './command.ts'
import type { ServiceView } from '../expose/expose-registry.ts'

export const exposeCommand: Command = {
  name: 'expose',
  summary: 'offer a local TCP service under a name to the members of this node\'s networks and its trusted peers',
  usage: '<service> <host:port> [--proto tcp|http|grpc|ssh] [--allow <peerId|name|@group>]... [--network NAME]... [--proxy-protocol] [--publish] [--json]',
  options: { proto: { type: 'string' }, allow: { type: 'string', multiple: true }, network: { type: 'string', multiple: true }, 'proxy-protocol': { type: 'boolean' }, publish: { type: 'boolean' } },
  positionals: [2, 2],
  async run ({ client, json, values, positionals }) {
    const [name, target] = positionals
    const service = await client.post<ServiceView>('/services', {
      name, target, proto: values.proto, allow: values.allow, networks: values.network, proxyProtocol: values['proxy-protocol'] === true, publish: values.publish === true
    })
    if (json) return printJson(service)
    const who = `${service.allow.length === 0 ? 'every member' : service.allow.join(', ')} of ${service.networks.length === 0 ? 'every network of this node' : service.networks.join(', ')}, and trusted peers`
    process.stdout.write(`exposed ${service.name} -> ${service.target} (${service.proto}) to ${who}${service.proxyProtocol ? ', with a PROXY v2 header' : ''}${service.publish ? ', published in its member records' : ''}${service.up ? '' : ': nothing listens there yet'}\n`)
  }
}
