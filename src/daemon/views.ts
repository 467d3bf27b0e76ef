import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { reachability, relaysOf } from '../node/reachability.ts'
import type { MeshNode } from '../node/create-node.ts'
import type { RouteComponents } from './routes.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { Reachability } from '../node/reachability.ts'
import type { Connection, Peer } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

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
  services: string[]
  forwards: string[]
  /** connected peers */
  peers: number
  /** peers in the peer store, connected or not */
  knownPeers: number
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

export async function statusView ({ node, exposes, forwards }: RouteComponents, context: StatusContext): Promise<StatusView> {
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
    // no up/down probe here: `status` stays cheap, and `services` shows the state
    services: exposes.records().map(service => `${service.name} -> ${service.target} (${service.proto})`),
    forwards: forwards.list().map(forward => `${forward.listen} -> ${forward.peer}/${forward.service}`),
    peers: node.getPeers().length,
    knownPeers: (await otherPeers(node)).length
  }
}

/** Every peer the node knows, found through the DHT or connected, most useful first. */
export async function peersView (node: MeshNode, trust: TrustStore): Promise<PeerView[]> {
  const views = (await otherPeers(node)).map(peer => peerView(peer, node.getConnections(peer.id), trust))
  return views.sort((a, b) => rank(a) - rank(b) || a.peerId.localeCompare(b.peerId))
}

async function otherPeers (node: MeshNode): Promise<Peer[]> {
  return (await node.peerStore.all()).filter(peer => !peer.id.equals(node.peerId))
}

function peerView (peer: Peer, connections: Connection[], trust: TrustStore): PeerView {
  const open = connections.filter(connection => connection.status === 'open')
  const best = open.find(connection => connection.direct) ?? open[0]
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

/** The transport a connection runs on, named as users know it. */
export function transportOf (address: Multiaddr): string {
  const names = address.getComponents().map(component => component.name)
  if (names.includes('p2p-circuit')) return 'relay'
  if (names.includes('webrtc') || names.includes('webrtc-direct')) return 'webrtc'
  if (names.includes('quic-v1')) return 'quic'
  if (names.includes('ws') || names.includes('wss')) return 'websockets'
  return names.includes('tcp') ? 'tcp' : names.join('/')
}
