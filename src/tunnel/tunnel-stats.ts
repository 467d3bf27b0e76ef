import { statusName } from '../../protocols/envelope/index.ts'
import type { Status } from '../../protocols/envelope/index.ts'
import type { TunnelCounters } from '../../protocols/tunnel/index.ts'

export interface TunnelStatsView {
  /** tunnels open now */
  active: number
  /** tunnels opened since the daemon started */
  connections: number
  /** bytes from the remote peer to the local end */
  bytesIn: number
  /** bytes from the local end to the remote peer */
  bytesOut: number
  /** failed tunnels by kind: a status name such as `unknown_service`, or `peer_unreachable`, `reset` */
  failures: Record<string, number>
}


/** The counters of one service or one forward. */
export class TunnelStats implements TunnelCounters {
  private readonly view: TunnelStatsView = { active: 0, connections: 0, bytesIn: 0, bytesOut: 0, failures: {} }

  opened (): void {
    this.view.active++
    this.view.connections++
  }

  closed (): void {
    this.view.active--
  }

  failed (kind: Status | string): void {
    const name = typeof kind === 'number' ? statusName(kind) : kind
    this.view.failures[name] = (this.view.failures[name] ?? 0) + 1
  }

  bytesIn (bytes: number): void {
    this.view.bytesIn += bytes
  }

  bytesOut (bytes: number): void {
    this.view.bytesOut += bytes
  }

  snapshot (): TunnelStatsView {
    return { ...this.view, failures: { ...this.view.failures } }
  }
}
