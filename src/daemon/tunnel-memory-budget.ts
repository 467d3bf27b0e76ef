import type { PeerId, Stream } from '@libp2p/interface'

export interface MemoryBudgetInit {
  /** bytes buffered by all tunnels at most */
  maxTotalBytes: number
  /** bytes buffered by the tunnels of one peer at most */
  maxPerPeerBytes: number
  /** a tunnel's yamux receive window when there is no pressure (the node's maximum) */
  windowBytes: number
  /** its window under pressure: yamux's initial window, which a receiver cannot go below */
  minWindowBytes: number
  /** how often the buffered bytes are counted */
  intervalMs?: number
}

/** A yamux stream's receive window fields (public on YamuxStream, not on the Stream interface). */
interface Windowed {
  maxStreamWindowSize?: number
  recvWindow?: number
}

interface Tracked {
  peer: string
  stream: Stream
  window: number
}

/** Past this share of a budget, new tunnels are refused. */
export const REFUSE_AT = 0.9
/** Past this share, windows shrink to the minimum; past a quarter, to a quarter of the maximum. */
export const SHRINK_AT = 0.5
const DEFAULT_INTERVAL_MS = 50

/**
 * A memory budget for the bytes tunnels buffer (a stream's unread bytes, held while the
 * local socket is full, and its unsent ones), per peer and in total. Every
 * `intervalMs` it counts them and, under pressure, shrinks the yamux receive windows
 * of the tunnels concerned (so their senders get less credit), refuses new tunnels
 * past REFUSE_AT, and past the budget resets the newest tunnels holding buffered bytes
 * until it fits again: the daemon never keeps more than the budget.
 */
export class TunnelMemoryBudget {
  private readonly init: Required<MemoryBudgetInit>
  private readonly tunnels = new Set<Tracked>()
  private readonly perPeer = new Map<string, number>()
  private total = 0
  private peakBytes = 0
  private resets = 0
  private timer?: NodeJS.Timeout

  constructor (init: MemoryBudgetInit) {
    this.init = { intervalMs: DEFAULT_INTERVAL_MS, ...init }
  }

  /** Starts following `stream` of `peer`, or returns undefined (refuse: OVERLOADED) when the budget is nearly spent. */
  track (peer: PeerId, stream: Stream): { release(): void } | undefined {
    const key = peer.toString()
    if (this.total >= this.init.maxTotalBytes * REFUSE_AT || (this.perPeer.get(key) ?? 0) >= this.init.maxPerPeerBytes * REFUSE_AT) return undefined
    const tracked: Tracked = { peer: key, stream, window: this.init.windowBytes }
    this.setWindow(tracked, this.windowFor(key))
    this.tunnels.add(tracked)
    this.timer ??= setInterval(() => { this.sample() }, this.init.intervalMs).unref()
    return {
      release: () => {
        this.tunnels.delete(tracked)
        if (this.tunnels.size === 0) this.stop()
      }
    }
  }

  /** Buffered bytes now, the most seen, and tunnels reset to keep within the budget. */
  usage (): { bufferedBytes: number, peakBytes: number, budgetBytes: number, resets: number } {
    return { bufferedBytes: this.total, peakBytes: this.peakBytes, budgetBytes: this.init.maxTotalBytes, resets: this.resets }
  }

  /** Resets every tunnel followed (the daemon is stopping: its clients hear a reset, not a FIN, and the node stops at once). */
  abortAll (reason: string): void {
    for (const tunnel of [...this.tunnels]) tunnel.stream.abort(new TunnelsStoppedError(reason))
    this.tunnels.clear()
    this.stop()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    // nothing is followed any more, so nothing is buffered
    this.total = 0
    this.perPeer.clear()
  }

  /** Counts, then shrinks or restores windows, then resets the newest tunnels while over budget. */
  sample (): void {
    this.perPeer.clear()
    let total = 0
    for (const tunnel of this.tunnels) {
      const bytes = buffered(tunnel.stream)
      total += bytes
      if (bytes > 0) this.perPeer.set(tunnel.peer, (this.perPeer.get(tunnel.peer) ?? 0) + bytes)
    }
    this.total = total
    this.peakBytes = Math.max(this.peakBytes, total)
    for (const tunnel of this.tunnels) this.setWindow(tunnel, this.windowFor(tunnel.peer))
    if (total <= this.init.maxTotalBytes && ![...this.perPeer.values()].some(bytes => bytes > this.init.maxPerPeerBytes)) return
    // over budget: the newest tunnels holding bytes go first
    for (const tunnel of [...this.tunnels].reverse()) {
      const peerBytes = this.perPeer.get(tunnel.peer) ?? 0
      if (this.total <= this.init.maxTotalBytes && peerBytes <= this.init.maxPerPeerBytes) continue
      const bytes = buffered(tunnel.stream)
      if (bytes === 0) continue
      tunnel.stream.abort(new TunnelMemoryError(`the tunnel memory budget is spent (${this.total} bytes buffered)`))
      this.tunnels.delete(tunnel)
      this.resets++
      this.total -= bytes
      this.perPeer.set(tunnel.peer, peerBytes - bytes)
    }
  }

  private windowFor (peer: string): number {
    const pressure = Math.max(this.total / this.init.maxTotalBytes, (this.perPeer.get(peer) ?? 0) / this.init.maxPerPeerBytes)
    if (pressure >= SHRINK_AT) return this.init.minWindowBytes
    if (pressure >= SHRINK_AT / 2) return Math.max(this.init.minWindowBytes, this.init.windowBytes / 4)
    return this.init.windowBytes
  }

  private setWindow (tunnel: Tracked, window: number): void {
    if (tunnel.window === window) return
    tunnel.window = window
    const stream = tunnel.stream as unknown as Windowed
    if (stream.maxStreamWindowSize == null) return
    stream.maxStreamWindowSize = window
    if ((stream.recvWindow ?? 0) > window) stream.recvWindow = window
  }
}

export class TunnelMemoryError extends Error {
  override name = 'TunnelMemoryError'
}

function buffered (stream: Stream): number {
  return stream.readBufferLength + stream.writeBufferLength
}

/** The node is stopping: its open tunnels are reset. */
export class TunnelsStoppedError extends Error {
  override name = 'TunnelsStoppedError'
}
