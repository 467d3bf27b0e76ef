import { printJson, printTable } from './command.ts'
import type { Command } from './command.ts'

export const peersCommand: Command = {
  name: 'peers',
  summary: 'list the peers this node knows, connected or found through the DHT',
  usage: '[--json]',
  help: {
    notes: 'CONNECTION is the path new tunnels take (direct or relayed); ENCRYPTION is that connection\'s (/noise or /tls/1.0.0).',
    examples: ['agentmesh peers', 'agentmesh peers --json']
  },
  async run ({ client, json }) {
    const peers = await client.peers()
    if (json) return printJson(peers)
    if (peers.length === 0) {
      process.stdout.write('no peers known yet\n')
      return
    }
    printTable(['PEER', 'CONNECTION', 'TRANSPORT', 'ENCRYPTION', 'RTT', 'ADDRESS'], peers.map(peer => [
      peer.peerId,
      peer.connection ?? '-',
      peer.transport ?? '-',
      peer.encryption ?? '-',
      peer.rttMs == null ? '-' : `${peer.rttMs} ms`,
      peer.addresses[0] ?? '-'
    ]))
  }
}
