import { peerIdFromString } from '@libp2p/peer-id'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import { setTimeout as sleep } from 'node:timers/promises'
import { badRequest } from '../control/protocol.ts'
import { dialPeer } from '../node/dial-peer.ts'
import type { PingReply } from '../control/api.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const PING_INTERVAL_MS = 1000
const PING_TIMEOUT_MS = 10_000

/** A peer id or a multiaddr, as users type them. */
export function parsePeerTarget (target: unknown): PeerId | Multiaddr {
  if (typeof target !== 'string' || target === '') throw badRequest('expected a peer id or a multiaddr')
  try {
    return target.startsWith('/') ? multiaddr(target) : peerIdFromString(target)
  } catch {
    throw badRequest(`"${target}" is neither a peer id nor a multiaddr`)
  }
}

/** `count` pings a second apart, each reported as it completes; a lost ping does not stop the rest. */
export async function * pingPeer (node: MeshNode, target: PeerId | Multiaddr, count: number, signal: AbortSignal): AsyncGenerator<PingReply> {
  for (let seq = 1; seq <= count && !signal.aborted; seq++) {
    if (seq > 1) await sleep(PING_INTERVAL_MS, undefined, { signal }).catch(() => {})
    if (signal.aborted) return
    try {
      const options = { signal: AbortSignal.any([signal, AbortSignal.timeout(PING_TIMEOUT_MS)]) }
      if (!isMultiaddr(target)) await dialPeer(node, target, options)
      const rtt = await node.services.ping.ping(target, options)
      yield { seq, rttMs: Math.round(rtt * 100) / 100 }
    } catch (err: any) {
      yield { seq, error: err.message }
    }
  }
}
