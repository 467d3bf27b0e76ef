import { getNetConfig, isNetworkAddress } from '@libp2p/utils'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'

export interface PendingPerHostInit {
  /** inbound connections from one host (IP address) that may be in their handshake at once */
  maxPerHost: number
}

/**
 * Caps the inbound connections one host may have in their handshake (noise, then
 * muxer negotiation) at once. libp2p only caps them in all (`maxIncomingPendingConnections`),
 * so a trickle of silent connections from one host, each held until the upgrade
 * timeout, would fill every slot and lock out new peers from anywhere. A connection
 * leaves the count when its upgrade completes or when it closes. Returns the gater
 * hooks to merge into the node's connection gater.
 */
export function pendingPerHost (init: PendingPerHostInit): Pick<ConnectionGater, 'denyInboundConnection' | 'denyInboundUpgradedConnection'> & { pending(host: string): number } {
  const pending = new Map<string, number>()
  const counted = new WeakMap<MultiaddrConnection, string>()
  const done = (maConn: MultiaddrConnection): void => {
    const host = counted.get(maConn)
    if (host == null) return
    counted.delete(maConn)
    const left = (pending.get(host) ?? 1) - 1
    if (left <= 0) pending.delete(host)
    else pending.set(host, left)
  }
  return {
    denyInboundConnection: async (maConn: MultiaddrConnection): Promise<boolean> => {
      if (!isNetworkAddress(maConn.remoteAddr)) return false
      const host = getNetConfig(maConn.remoteAddr).host
      const count = pending.get(host) ?? 0
      if (count >= init.maxPerHost) return true
      pending.set(host, count + 1)
      counted.set(maConn, host)
      maConn.addEventListener('close', () => { done(maConn) }, { once: true })
      return false
    },
    denyInboundUpgradedConnection: async (_peer: PeerId, maConn: MultiaddrConnection): Promise<boolean> => {
      done(maConn)
      return false
    },
    pending: (host: string) => pending.get(host) ?? 0
  }
}
