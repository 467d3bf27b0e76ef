import { randomBytes } from 'node:crypto'
import { repeatingTask } from '@libp2p/utils'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { RepeatingTask } from '@libp2p/utils'

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
  private readonly components: DhtWalkComponents
  private readonly task: RepeatingTask
  private started = false
  /** a walk was asked for: the next one starts soon, or right after the one under way */
  private asked = false

  constructor (components: DhtWalkComponents, init: DhtWalkInit) {
    this.components = components
    this.task = repeatingTask(async options => { await this.walkWhileAsked(options) }, init.intervalSeconds * 1000)
  }

  start (): void {
    this.task.start()
    this.started = true
    if (this.asked) this.task.run()
  }

  stop (): void {
    this.started = false
    this.task.stop()
  }

  /** Starts a walk, or one more right after the walk under way. */
  walkSoon (): void {
    this.asked = true
    // while a walk runs this does nothing, and walkWhileAsked walks once more
    if (this.started) this.task.run()
  }

  private async walkWhileAsked (options: AbortOptions = {}): Promise<void> {
    do {
      this.asked = false
      await this.walk(options.signal)
    } while (this.asked && options.signal?.aborted !== true)
  }

  private async walk (stopped?: AbortSignal): Promise<void> {
    const { node, log } = this.components
    const signal = AbortSignal.any([...(stopped == null ? [] : [stopped]), AbortSignal.timeout(WALK_TIMEOUT_MS)])
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
      if (stopped?.aborted !== true) log.debug({ found: found.size }, `dht walk ended: ${err.message}`)
    }
  }
}
