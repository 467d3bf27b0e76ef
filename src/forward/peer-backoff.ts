import type { Logger } from '../log/logger.ts'
import type { PeerId } from '@libp2p/interface'

/** The first and the longest wait before a peer that could not be reached is dialled again. */
const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 10_000

interface DownPeer {
  delayMs: number
  timer: NodeJS.Timeout
}

export interface PeerBackoffComponents {
  dial(peer: PeerId): Promise<unknown>
  log: Logger
}

/**
 * Remembers the forward targets that could not be reached and re-dials them in the
 * background, 1 s after the failure and then at doubling intervals up to 10 s, until
 * one succeeds. Meanwhile new local connections to such a peer fail at once instead of
 * each waiting for a dial timeout; once it is back they go through, with no command.
 */
export class PeerBackoff {
  private readonly down = new Map<string, DownPeer>()
  private readonly components: PeerBackoffComponents

  constructor (components: PeerBackoffComponents) {
    this.components = components
  }

  isDown (peer: PeerId): boolean {
    return this.down.has(peer.toString())
  }

  failed (peer: PeerId): void {
    if (this.isDown(peer)) return
    this.components.log.warn({ peer: peer.toString() }, `peer unreachable: re-dialling in the background every ${FIRST_RETRY_MS / 1000}-${MAX_RETRY_MS / 1000} s`)
    this.schedule(peer, FIRST_RETRY_MS)
  }

  succeeded (peer: PeerId): void {
    const entry = this.down.get(peer.toString())
    if (entry == null) return
    clearTimeout(entry.timer)
    this.down.delete(peer.toString())
    this.components.log.info({ peer: peer.toString() }, 'peer reachable again')
  }

  stop (): void {
    for (const { timer } of this.down.values()) clearTimeout(timer)
    this.down.clear()
  }

  private schedule (peer: PeerId, delayMs: number): void {
    const timer = setTimeout(() => {
      this.components.dial(peer).then(() => { this.succeeded(peer) }, () => {
        if (this.down.has(peer.toString())) this.schedule(peer, Math.min(delayMs * 2, MAX_RETRY_MS))
      })
    }, delayMs)
    this.down.set(peer.toString(), { delayMs, timer })
  }
}
