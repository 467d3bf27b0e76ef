import { describeError } from '../errors.ts'
import type { MeshNode } from './mesh-node.ts'
import type { AbortOptions, Connection, NewStreamOptions, PeerId, Stream } from '@libp2p/interface'

export type PeerDialer = Pick<MeshNode, 'dial' | 'peerRouting' | 'getConnections' | 'services'>

/**
 * Dials a peer by id, asking the DHT for its current addresses when every address libp2p
 * knows has failed. libp2p looks a peer up only when it knows no address at all, so the
 * addresses it learnt once (a NATed peer's private ones from before its relay reservation,
 * a reservation on a relay that has since gone) would otherwise fail every dial until
 * they expire.
 */
export async function dialPeer (node: PeerDialer, peer: PeerId, options: AbortOptions = {}): Promise<Connection> {
  try {
    return await node.dial(peer, options)
  } catch (err) {
    if (options.signal?.aborted === true) throw err
    try {
      // useCache: false, or kad-dht answers from the same peer store
      await node.peerRouting.findPeer(peer, { ...options, useCache: false })
    } catch {
      throw err
    }
    return await node.dial(peer, options)
  }
}

/**
 * The open connection to `peer` that new streams take: direct before relayed, never one
 * with relay limits, nor a WebRTC connection still awaiting its ping (direct-paths.ts),
 * which libp2p itself would pick.
 */
export function streamConnection (node: Pick<PeerDialer, 'getConnections' | 'services'>, peer: PeerId): Connection | undefined {
  const usable = node.getConnections(peer).filter(connection =>
    connection.status === 'open' && connection.limits == null && node.services.directPaths?.settled(connection) !== false)
  return usable.find(connection => connection.direct) ?? usable[0]
}

/** Refusals by libp2p's own rules, which say nothing about the health of the connection. */
const POLICY_ERRORS = new Set(['TooManyOutboundProtocolStreamsError', 'LimitedConnectionError', 'AbortError', 'TimeoutError'])

/**
 * A stream to `peer` for `protocol` on its best connection (libp2p prefers a direct one).
 * A connection that cannot open a stream is dead even if it looks open (a WebRTC
 * connection whose far end gave up while it was being set up, until ICE notices): it is
 * aborted, and the stream opened on the next connection, or a new one. Where only a
 * relayed connection with limits reaches the peer, one new circuit is tried: the relay
 * decides limits per circuit, and may have come to trust both peers since the old one
 * was opened (which is left to end by its limits, not cut).
 */
export async function newPeerStream (node: PeerDialer, peer: PeerId, protocol: string, options: NewStreamOptions = {}): Promise<{ stream: Stream, connection: Connection }> {
  const open = async (connection: Connection): Promise<{ stream: Stream, connection: Connection }> => {
    try {
      return { stream: await connection.newStream(protocol, options), connection }
    } catch (err: any) {
      if (err?.name === 'LimitedConnectionError' && options.signal?.aborted !== true) return newCircuitStream(node, peer, protocol, options, err)
      throw err
    }
  }
  const connection = streamConnection(node, peer) ?? await dialPeer(node, peer, options)
  try {
    return await open(connection)
  } catch (err: any) {
    if (options.signal?.aborted === true || POLICY_ERRORS.has(err?.name)) throw err
    connection.abort(err instanceof Error ? err : new Error(describeError(err)))
    // the next connection may be the relayed one, limited since before the relay trusted both ends
    return open(await dialPeer(node, peer, options))
  }
}

async function newCircuitStream (node: PeerDialer, peer: PeerId, protocol: string, options: NewStreamOptions, limitedError: Error): Promise<{ stream: Stream, connection: Connection }> {
  const circuit = await node.dial(peer, { signal: options.signal, force: true })
  if (circuit.limits != null) {
    await circuit.close().catch(() => {})
    throw limitedError
  }
  return { stream: await circuit.newStream(protocol, options), connection: circuit }
}
