import { randomBytes } from 'node:crypto'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/mesh-node.ts'

export interface DhtWalkInit {
  intervalSeconds: number
}

export interface DhtWalkComponents {
  node: Pick<MeshNode, 'peerId' | 'peerStore' | 'services'>
  log: Logger
}

/** How long one closest-peers lookup may run. */
const WALK_TIMEOUT_MS = 20_000

/**
 * Finds the other members of the mesh through the DHT: closest-peers lookups for the
 * node's own id and for a random key, after each bootstrap (re)connection and every
 * `intervalSeconds`. The peers named in the answers go to the peer store, which is what
 * `peers` lists. (libp2p's `peerRouting.getClosestPeers` would also store them, but it
 * runs a full `findPeer` lookup for every peer named without addresses: a storm of
 * queries that grows with the mesh.)
 */
export class DhtWalk {
  private readonly init: DhtWalkInit
  private readonly components: DhtWalkComponents
  private timer?: NodeJS.Timeout
  private running = false
  private again = false
  private readonly controller = new AbortController()

  constructor (init: DhtWalkInit, components: DhtWalkComponents) {
    this.init = init
    this.components = components
  }

  start (): void {
    this.timer = setInterval(() => { this.walkSoon() }, this.init.intervalSeconds * 1000)
  }

  stop (): void {
    clearInterval(this.timer)
    this.controller.abort()
  }

  /** Starts a walk, or one more right after the walk under way. */
  walkSoon (): void {
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    void this.walk().finally(() => {
      this.running = false
      if (this.again && !this.controller.signal.aborted) {
        this.again = false
        this.walkSoon()
      }
    })
  }

  private async walk (): Promise<void> {
    const { node, log } = this.components
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(WALK_TIMEOUT_MS)])
    const found = new Set<string>()
    try {
      for (const key of [node.peerId.toMultihash().bytes, randomBytes(32)]) {
        for await (const event of node.services.dht.getClosestPeers(key, { signal })) {
          if (event.name !== 'PEER_RESPONSE') continue
          for (const peer of event.closer) {
            if (peer.id.equals(node.peerId) || peer.multiaddrs.length === 0) continue
            await node.peerStore.merge(peer.id, { multiaddrs: peer.multiaddrs }, { signal })
            found.add(peer.id.toString())
          }
        }
      }
      log.debug({ found: found.size }, 'dht walk done')
    } catch (err: any) {
      if (!this.controller.signal.aborted) log.debug({ found: found.size }, `dht walk ended: ${err.message}`)
    }
  }
}
