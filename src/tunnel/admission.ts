import type { PeerId } from '@libp2p/interface'

export interface TunnelLimits {
  maxPerPeer: number
  maxTotal: number
}

/** Counts inbound tunnels against the per-peer and total limits; past them, OVERLOADED. */
export class TunnelAdmission {
  private readonly limits: TunnelLimits
  private readonly perPeer = new Map<string, number>()
  private total = 0

  constructor (limits: TunnelLimits) {
    this.limits = limits
  }

  admit (peer: PeerId): { release(): void } | undefined {
    const key = peer.toString()
    const count = this.perPeer.get(key) ?? 0
    if (count >= this.limits.maxPerPeer || this.total >= this.limits.maxTotal) return undefined
    this.perPeer.set(key, count + 1)
    this.total++
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.total--
        const left = (this.perPeer.get(key) ?? 1) - 1
        if (left === 0) this.perPeer.delete(key)
        else this.perPeer.set(key, left)
      }
    }
  }
}
