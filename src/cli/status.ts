import { printFields, printJson } from './command.ts'
import type { Command } from './command.ts'

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the node\'s identity, reachability, relays, services, forwards and peers',
  usage: '[--json]',
  help: {
    examples: ['agentmesh status', 'agentmesh status --json']
  },
  async run ({ client, json }) {
    const status = await client.status()
    if (json) return printJson(status)
    printFields([
      ['peer id', status.peerId],
      ['name', status.name ?? '-'],
      ['version', `${status.version} (pid ${status.pid}, up ${status.uptimeSeconds}s)`],
      ['reachability', `${status.reachability} (dht ${status.dhtMode})`],
      ['addresses', status.addresses],
      ['relays', status.relays],
      ...(status.relayService == null ? [] : [['relaying', `${status.relayService.reservations} reservations held here; STUN on ${status.relayService.stun.join(', ') || 'no address'}`]] as Array<[string, string]>),
      ['services', status.services],
      ['forwards', status.forwards],
      ['peers', `${status.peers} connected, ${status.knownPeers} known`]
    ])
  }
}
