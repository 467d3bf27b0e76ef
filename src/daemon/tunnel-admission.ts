import type { TunnelMemoryBudget } from './tunnel-memory-budget.ts'
import type { PeerId, Stream } from '@libp2p/interface'

export interface TunnelAdmissionComponents {
  /** counts each admitted tunnel's buffered bytes, and refuses tunnels when it is nearly spent */
  memory?: TunnelMemoryBudget
}

export interface TunnelLimits {
  /** tunnels one peer may have open to this node */
  maxPerPeer: number
  /** tunnels open to this node in all */
  maxTotal: number
  /**
   * the last this many free slots of `maxTotal` go only to light peers (those holding
   * fewer than `lightPeerTunnels(reservedForOthers)`), so that peers who already hold
   * many tunnels cannot take the whole pool from the rest
   */
  reservedForOthers: number
}

/** A peer holding fewer tunnels than this may take a reserved slot: an eighth of the reserve, at least one. */
export function lightPeerTunnels (reservedForOthers: number): number {
  return Math.max(1, Math.ceil(reservedForOthers / 8))
}

/**
 * Counts inbound tunnels against the per-peer and total limits; past them, OVERLOADED.
 * The last `reservedForOthers` slots are kept for peers that hold few tunnels, so one
 * busy peer (or a few) cannot lock every other peer out.
 */
export class TunnelAdmission {
  private readonly limits: TunnelLimits
  private readonly light: number
  private readonly perPeer = new Map<string, number>()
  private total = 0
  private readonly memory?: TunnelMemoryBudget

  constructor (components: TunnelAdmissionComponents, limits: TunnelLimits) {
    // at most half the slots are held back, whatever maxTotal is
    this.limits = { ...limits, reservedForOthers: Math.min(limits.reservedForOthers, Math.floor(limits.maxTotal / 2)) }
    this.light = lightPeerTunnels(this.limits.reservedForOthers)
    this.memory = components.memory
  }

  /** Tunnels open now, in all and for `peer`. */
  count (peer?: PeerId): number {
    return peer == null ? this.total : this.perPeer.get(peer.toString()) ?? 0
  }

  /** A slot for a tunnel of `peer` (its `stream` then counts against the memory budget), or undefined: OVERLOADED. */
  admit (peer: PeerId, stream?: Stream): { release(): void } | undefined {
    const key = peer.toString()
    const count = this.perPeer.get(key) ?? 0
    if (count >= this.limits.maxPerPeer || this.total >= this.limits.maxTotal) return undefined
    const free = this.limits.maxTotal - this.total
    if (free <= this.limits.reservedForOthers && count >= this.light) return undefined
    const memory = stream == null ? undefined : this.memory?.track(peer, stream)
    if (stream != null && this.memory != null && memory == null) return undefined
    this.perPeer.set(key, count + 1)
    this.total++
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        memory?.release()
        this.total--
        const left = (this.perPeer.get(key) ?? 1) - 1
        if (left === 0) this.perPeer.delete(key)
        else this.perPeer.set(key, left)
      }
    }
  }
}
