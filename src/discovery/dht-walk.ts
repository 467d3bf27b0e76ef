import { randomBytes } from 'node:crypto'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/create-node.ts'

export interface DhtWalkInit {
  intervalSeconds: number
}

export interface DhtWalkComponents {
  node: Pick<MeshNode, 'peerId' | 'peerRouting'>
  log: Logger
}

/** How long one closest-peers lookup may run. */
const WALK_TIMEOUT_MS = 20_000

/**
 * Finds the other members of the mesh through the DHT: closest-peers lookups for the
 * node's own id and for a random key, at start, after each bootstrap (re)connection and
 * every `intervalSeconds`. libp2p's peer routing stores what the lookups find in the
 * peer store, which is what `peers` lists.
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
    let found = 0
    try {
      for (const key of [node.peerId.toMultihash().bytes, randomBytes(32)]) {
        for await (const peer of node.peerRouting.getClosestPeers(key, { signal })) {
          if (!peer.id.equals(node.peerId)) found++
        }
      }
      log.debug({ found }, 'dht walk done')
    } catch (err: any) {
      if (!this.controller.signal.aborted) log.debug({ found }, `dht walk ended: ${err.message}`)
    }
  }
}
