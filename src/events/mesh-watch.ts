import { streamConnection } from '../node/dial-peer.ts'
import { relaysOf } from '../addresses/reachability.ts'
import { transportOf } from '../addresses/transport-name.ts'
import type { EventBus } from './bus.ts'
import type { PathView } from './types.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { Connection, PeerId } from '@libp2p/interface'

/** How often every peer's path is compared again: a WebRTC path becomes usable without an event of its own. */
const SWEEP_INTERVAL_MS = 2_000

/**
 * The path to a peer as `agentmesh peers` reports it: the connection new tunnels take,
 * else an open one with relay limits; undefined when none is open.
 */
export function pathOf (node: MeshNode, peer: PeerId): { path: PathView, connection: Connection } | undefined {
  const connection = streamConnection(node, peer) ?? node.getConnections(peer).find(candidate => candidate.status === 'open')
  if (connection == null) return undefined
  return { path: { connection: connection.direct ? 'direct' : 'relayed', transport: transportOf(connection.remoteAddr) }, connection }
}

/**
 * Turns what libp2p reports into mesh events: peers connected and disconnected, their
 * path changing (relayed to direct, one transport to another), and relay reservations
 * gained and lost. Returns the function that stops watching.
 */
export function watchMesh (node: MeshNode, bus: EventBus, log: { warn(context: object, message: string): void }): () => void {
  const paths = new Map<string, PathView>()
  let relays = new Set<string>()

  const checkPeer = (peer: PeerId): void => {
    if (peer.equals(node.peerId)) return
    const key = peer.toString()
    const before = paths.get(key)
    const now = pathOf(node, peer)?.path
    if (now == null) {
      if (before == null) return
      paths.delete(key)
      bus.emit('peer.disconnected', { peer: key })
    } else if (before == null) {
      paths.set(key, now)
      bus.emit('peer.connected', { peer: key, ...now })
    } else if (before.connection !== now.connection || before.transport !== now.transport) {
      paths.set(key, now)
      bus.emit('path.changed', { peer: key, from: before, to: now })
    }
  }
  const checkRelays = (): void => {
    const now = new Set(relaysOf(node.services.addresses.addresses()))
    for (const relay of now) if (!relays.has(relay)) bus.emit('reservation.gained', { relay })
    for (const relay of relays) if (!now.has(relay)) bus.emit('reservation.lost', { relay })
    relays = now
  }
  const sweep = (): void => {
    const connected = node.getPeers()
    for (const peer of connected) checkPeer(peer)
    const still = new Set(connected.map(String))
    for (const key of [...paths.keys()]) {
      if (!still.has(key)) {
        paths.delete(key)
        bus.emit('peer.disconnected', { peer: key })
      }
    }
    checkRelays()
  }

  // nothing here may throw into libp2p's event dispatch, nor out of the timer
  const guarded = (check: () => void) => (): void => {
    try {
      check()
    } catch (err: any) {
      log.warn({ err: err?.message }, 'watching the mesh for events failed')
    }
  }
  const onConnection = (event: CustomEvent<Connection>): void => { guarded(() => { checkPeer(event.detail.remotePeer) })() }
  const onSelfUpdate = guarded(checkRelays)
  node.addEventListener('connection:open', onConnection)
  node.addEventListener('connection:close', onConnection)
  node.addEventListener('self:peer:update', onSelfUpdate)
  const timer = setInterval(guarded(sweep), SWEEP_INTERVAL_MS)
  timer.unref()
  return () => {
    clearInterval(timer)
    node.removeEventListener('connection:open', onConnection)
    node.removeEventListener('connection:close', onConnection)
    node.removeEventListener('self:peer:update', onSelfUpdate)
  }
}
