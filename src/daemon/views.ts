import { peerIdFromString } from '@libp2p/peer-id'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { streamConnection } from '../node/dial-peer.ts'
import { reachability, relaysOf } from '../addresses/reachability.ts'
import { transportOf } from '../addresses/transport-name.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { Certificate } from '../../protocols/membership/index.ts'
import type { Membership, Network } from '../membership/membership.ts'
import type { PeerTrust } from '../membership/peer-trust.ts'
import type { CertificateView, IdView, MemberView, NetworkView, PeerView, StatusView } from '../control/api.ts'
import type { ForwardManager } from '../forward/forward-manager.ts'
import type { ServiceRegistry } from '../expose/service-registry.ts'
import type { RelayStun } from '../nat/relay-stun.ts'
import type { TunnelMemoryBudget } from './tunnel-memory-budget.ts'
import type { Connection, Peer, PeerId } from '@libp2p/interface'

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

/** What `status` reports on. */
export interface StatusComponents {
  node: MeshNode
  services: ServiceRegistry
  forwards: ForwardManager
  membership: Membership
  /** a relay node's STUN responders */
  stun?: RelayStun
  /** the tunnel memory budget */
  memory?: TunnelMemoryBudget
}

export async function statusView ({ node, services, forwards, membership, stun, memory }: StatusComponents, context: StatusContext): Promise<StatusView> {
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
    services: services.records().map(service => `${service.name} -> ${service.target} (${service.proto})`),
    forwards: forwards.list().map(forward => `${forward.listen} -> ${forward.peer}/${forward.service}`),
    networks: membership.networks().map(network => network.name),
    peers: node.getPeers().length,
    knownPeers: (await otherPeers(node)).length,
    ...(memory != null && { tunnelBuffers: memory.usage() })
  }
}

/** Every peer the node knows, found through the DHT or connected, most useful first. */
export async function peersView (node: MeshNode, peers: PeerTrust): Promise<PeerView[]> {
  const views = (await otherPeers(node)).map(peer => peerView(node, peer, peers))
  return views.sort((a, b) => rank(a) - rank(b) || a.peerId.localeCompare(b.peerId))
}

async function otherPeers (node: MeshNode): Promise<Peer[]> {
  return (await node.peerStore.all()).filter(peer => !peer.id.equals(node.peerId))
}

function peerView (node: MeshNode, peer: Peer, peers: PeerTrust): PeerView {
  const best = pathOf(node, peer.id)
  const agent = peer.metadata.get('AgentVersion')
  const known = peers.describe(peer.id)
  return {
    peerId: peer.id.toString(),
    ...known,
    addresses: peer.addresses.map(({ multiaddr }) => multiaddr.toString()),
    connection: best == null ? null : best.direct ? 'direct' : 'relayed',
    ...(best != null && { transport: transportOf(best.remoteAddr) }),
    ...(best?.encryption != null && { encryption: best.encryption }),
    ...(best?.rtt != null && { rttMs: Math.round(best.rtt * 100) / 100 }),
    ...(agent != null && { agent: uint8ArrayToString(agent) }),
    trusted: peers.isTrusted(peer.id)
  }
}

/** The connection new tunnels take; else one with relay limits, which carries only the node's own protocols. */
function pathOf (node: MeshNode, peer: PeerId): Connection | undefined {
  return streamConnection(node, peer) ?? node.getConnections(peer).find(connection => connection.status === 'open' && connection.limits != null)
}

/** A network as `network ls`, `network init` and `join` show it. */
export function networkView (network: Network): NetworkView {
  const { name: memberName, groups, role, expires, serial } = certificateView(network.certificate)
  return {
    name: network.name,
    vni: network.vni,
    networkKey: uint8ArrayToString(network.key, 'base16'),
    admin: network.privateKey != null,
    memberName,
    groups,
    role,
    expires,
    serial,
    revocationsVersion: Number(network.revocations?.version ?? 0n)
  }
}

/** The fields of a certificate a user reads. */
export function certificateView (certificate: Certificate): CertificateView {
  return {
    peerId: certificate.peerId.toString(),
    name: certificate.name,
    groups: certificate.groups,
    role: certificate.role,
    expires: new Date(certificate.notAfter * 1000).toISOString(),
    serial: certificate.serial.toString()
  }
}

/** `members`: every member this node knows of, with whether it is connected and how. */
export function membersView (node: MeshNode, membership: Membership): MemberView[] {
  return membership.members().map(member => {
    if (member.self) return { ...member, online: true, path: null }
    const connection = pathOf(node, peerIdFromString(member.peerId))
    return { ...member, online: connection != null, path: connection == null ? null : connection.direct ? 'direct' : 'relayed' }
  })
}

function rank (peer: PeerView): number {
  return peer.connection === 'direct' ? 0 : peer.connection === 'relayed' ? 1 : 2
}
