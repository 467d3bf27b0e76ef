import { printJson } from './command.ts'
import type { Command } from './command.ts'
import type { ServiceView } from '../expose/expose-registry.ts'

export const exposeCommand: Command = {
  name: 'expose',
  summary: 'offer a local TCP service to trusted peers under a name',
  usage: '<service> <host:port> [--proto tcp|http|grpc|ssh] [--json]',
  options: { proto: { type: 'string' } },
  positionals: [2, 2],
  async run ({ client, json, values, positionals }) {
    const [name, target] = positionals
    const service = await client.post<ServiceView>('/services', { name, target, proto: values.proto })
    if (json) return printJson(service)
    process.stdout.write(`exposed ${service.name} -> ${service.target} (${service.proto})${service.up ? '' : ': nothing listens there yet'}\n`)
  }
}
