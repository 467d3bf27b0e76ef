import { printJson, printTable } from './command.ts'
import type { Command } from './command.ts'
import type { ServiceView } from '../control/api.ts'

export const servicesCommand: Command = {
  name: 'services',
  summary: 'list the services this node exposes, with their state and counters; --all: also those the members of its networks publish',
  usage: '[--all] [--json]',
  help: {
    flags: [
      ['--all', 'also the services the members of this node\'s networks publish, nearest first']
    ],
    examples: ['agentmesh services', 'agentmesh services --all --json']
  },
  options: { all: { type: 'boolean' } },
  async run ({ client, json, values }) {
    if (values.all === true) {
      const all = await client.allServices()
      if (json) return printJson(all)
      printLocal(all.local)
      process.stdout.write('\n')
      if (all.published.length === 0) return void process.stdout.write('no member publishes a service (expose ... --publish), or none answers\n')
      return printTable(['SERVICE', 'PROTO', 'PORT', 'MEMBER', 'NETWORK', 'RTT', 'PEER'], all.published.map(entry => [
        entry.name, entry.proto, String(entry.port), entry.member, entry.network, `${Math.round(entry.rttMs)} ms`, entry.peerId
      ]))
    }
    const services = await client.services()
    if (json) return printJson(services)
    printLocal(services)
  }
}

function printLocal (services: ServiceView[]): void {
  if (services.length === 0) return void process.stdout.write('no services exposed: agentmesh expose <service> <host:port>\n')
  printTable(['SERVICE', 'TARGET', 'PROTO', 'STATE', 'ACTIVE', 'TOTAL', 'IN', 'OUT', 'FAILURES'], services.map(service => [
    service.name, service.target, service.proto, service.up ? 'up' : 'down', String(service.active), String(service.connections),
    String(service.bytesIn), String(service.bytesOut), formatFailures(service.failures)
  ]))
}

export function formatFailures (failures: Record<string, number>): string {
  return Object.entries(failures).map(([kind, count]) => `${kind}=${count}`).join(',') || '-'
}
