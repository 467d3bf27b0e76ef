import { printJson, printTable } from './command.ts'
import type { Command } from './command.ts'
import type { ServiceView } from '../expose/expose-registry.ts'

export const servicesCommand: Command = {
  name: 'services',
  summary: 'list the services this node exposes, with their state and counters',
  usage: '[--json]',
  async run ({ client, json }) {
    const services = await client.get<ServiceView[]>('/services')
    if (json) return printJson(services)
    if (services.length === 0) return void process.stdout.write('no services exposed: agentmesh expose <service> <host:port>\n')
    printTable(['SERVICE', 'TARGET', 'PROTO', 'STATE', 'ACTIVE', 'TOTAL', 'IN', 'OUT', 'FAILURES'], services.map(service => [
      service.name, service.target, service.proto, service.up ? 'up' : 'down', String(service.active), String(service.connections),
      String(service.bytesIn), String(service.bytesOut), formatFailures(service.failures)
    ]))
  }
}

export function formatFailures (failures: Record<string, number>): string {
  return Object.entries(failures).map(([kind, count]) => `${kind}=${count}`).join(',') || '-'
}
