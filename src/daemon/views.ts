import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { streamConnection } from '../node/dial-peer.ts'
import { reachability, relaysOf } from '../node/reachability.ts'
import { transportOf } from '../node/transport-name.ts'
import type { MeshNode } from '../node/create-node.ts'
import type { RouteComponents } from './routes.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { Reachability } from '../node/reachability.ts'
import type { Peer } from '@libp2p/interface'

/** The JSON documents of `id`, `status` and `peers` (DESIGN.md section 6). */
export interface IdView {
  peerId: string
  addresses: string[]
}

export interface StatusView extends IdView {
  name: string | null
  version: string
  pid: number
  dataDir: string
  uptimeSeconds: number
  reachability: Reachability
  dhtMode: 'client' | 'server'
  relays: string[]
  /** what this node does as a relay (`--relay`), null when it is not one */
  relayService: { reservations: number, stun: string[] } | null
  services: string[]
  forwards: string[]
  /** connected peers */
  peers: number
  /** peers in the peer store, connected or not */
  knownPeers: number
  /** bytes tunnels buffer now, the most seen since start, the budget (`tunnels.maxBufferedBytes`) and tunnels reset to keep within it */
  tunnelBuffers?: { bufferedBytes: number, peakBytes: number, budgetBytes: number, resets: number }
}

export interface PeerView {
  peerId: string
  /** the name it is trusted under */
  name?: string
  addresses: string[]
  connection: 'direct' | 'relayed' | null
  transport?: string
  rttMs?: number
  agent?: string
  trusted: boolean
}

export function idView (node: MeshNode): IdView {
  return {
    peerId: node.peerId.toString(),
    addresses: node.getMultiaddrs().map(String)
  }
}

export interface StatusContext {
  name: string | null
  version: string
  dataDir: string
  startedAt: number
}

export async function statusView ({ node, exposes, forwards, stun, memory }: RouteComponents, context: StatusContext): Promise<StatusView> {
  const addresses = node.services.addresses.addresses()
  return {
    ...idView(node),
    name: context.name,
    version: context.version,
    pid: process.pid,
    dataDir: context.dataDir,
    uptimeSeconds: Math.round((Date.now() - context.startedAt) / 1000),
    reachability: reachability(addresses),
    dhtMode: node.services.dht.getMode(),
    relays: relaysOf(addresses),
    relayService: node.services.relay == null ? null : { reservations: node.services.relay.reservations.size, stun: stun?.endpoints() ?? [] },
    // no up/down probe here: `status` stays cheap, and `services` shows the state
    services: exposes.records().map(service => `${service.name} -> ${service.target} (${service.proto})`),
    forwards: forwards.list().map(forward => `${forward.listen} -> ${forward.peer}/${forward.service}`),
    peers: node.getPeers().length,
    knownPeers: (await otherPeers(node)).length,
    ...(memory != null && { tunnelBuffers: memory.usage() })
  }
}

/** Every peer the node knows, found through the DHT or connected, most useful first. */
export async function peersView (node: MeshNode, trust: TrustStore): Promise<PeerView[]> {
  const views = (await otherPeers(node)).map(peer => peerView(node, peer, trust))
  return views.sort((a, b) => rank(a) - rank(b) || a.peerId.localeCompare(b.peerId))
}

async function otherPeers (node: MeshNode): Promise<Peer[]> {
  return (await node.peerStore.all()).filter(peer => !peer.id.equals(node.peerId))
}

function peerView (node: MeshNode, peer: Peer, trust: TrustStore): PeerView {
  // the connection new tunnels take; else one with relay limits, which carries only the node's own protocols
  const best = streamConnection(node, peer.id) ?? node.getConnections(peer.id).find(connection => connection.status === 'open' && connection.limits != null)
  const agent = peer.metadata.get('AgentVersion')
  const trusted = trust.get(peer.id.toString())
  return {
    peerId: peer.id.toString(),
    ...(trusted?.name != null && { name: trusted.name }),
    addresses: peer.addresses.map(({ multiaddr }) => multiaddr.toString()),
    connection: best == null ? null : best.direct ? 'direct' : 'relayed',
    ...(best != null && { transport: transportOf(best.remoteAddr) }),
    ...(best?.rtt != null && { rttMs: Math.round(best.rtt * 100) / 100 }),
    ...(agent != null && { agent: uint8ArrayToString(agent) }),
    trusted: trusted != null
  }
}

function rank (peer: PeerView): number {
  return peer.connection === 'direct' ? 0 : peer.connection === 'relayed' ? 1 : 2
}
