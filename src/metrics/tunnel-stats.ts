import { statusName } from '../../protocols/envelope/index.ts'
import type { Status } from '../../protocols/envelope/index.ts'
import type { TunnelCounters } from '../../protocols/tunnel/index.ts'
import type { TunnelStatsView } from '../control/api.ts'

/** What a tunnel's numbers are about: cardinality-safe (no peer ids), so fit for metric labels. */
export interface TunnelLabels {
  service: string
  /** `inbound`: a peer's tunnel to a service exposed here; `outbound`: a local forward's tunnel to a peer */
  direction: 'inbound' | 'outbound'
}

/** Hears every change of a TunnelStats (the Prometheus metrics implement it). */
export interface TunnelObserver {
  opened(labels: TunnelLabels): void
  closed(labels: TunnelLabels): void
  /** once per tunnel: `ok` for one that opened and ended cleanly, else its failure kind */
  ended(labels: TunnelLabels, status: string): void
  bytesIn(labels: TunnelLabels, bytes: number): void
  bytesOut(labels: TunnelLabels, bytes: number): void
  /** seconds from a local connection's accept to the first byte back from the peer */
  firstByte(labels: TunnelLabels, seconds: number): void
}

/** The counters of one service or one forward. */
export class TunnelStats implements TunnelCounters {
  private readonly view: TunnelStatsView = { active: 0, connections: 0, bytesIn: 0, bytesOut: 0, failures: {} }
  private readonly labels: TunnelLabels
  private readonly observer?: TunnelObserver

  constructor (labels: TunnelLabels = { service: '', direction: 'inbound' }, observer?: TunnelObserver) {
    this.labels = labels
    this.observer = observer
  }

  opened (): void {
    this.view.active++
    this.view.connections++
    this.observer?.opened(this.labels)
  }

  closed (): void {
    this.view.active--
    this.observer?.closed(this.labels)
    this.observer?.ended(this.labels, 'ok')
  }

  failed (kind: Status | string): void {
    const name = typeof kind === 'number' ? statusName(kind) : kind
    this.view.failures[name] = (this.view.failures[name] ?? 0) + 1
    this.observer?.ended(this.labels, name)
  }

  bytesIn (bytes: number): void {
    this.view.bytesIn += bytes
    this.observer?.bytesIn(this.labels, bytes)
  }

  bytesOut (bytes: number): void {
    this.view.bytesOut += bytes
    this.observer?.bytesOut(this.labels, bytes)
  }

  /**
   * The counters of one tunnel, for an opener that reports its failure after the tunnel
   * closed (a tunnel cut under an open connection ends as `reset`, not `ok`): the `ok`
   * of a close waits for the end of this turn of the event loop. Also times the first
   * byte back from the peer, from now.
   */
  tunnel (): TunnelCounters {
    const started = performance.now()
    let firstByte = true
    let ok: NodeJS.Immediate | undefined
    return {
      opened: () => { this.opened() },
      closed: () => {
        this.view.active--
        if (this.observer == null) return
        this.observer.closed(this.labels)
        ok = setImmediate(() => {
          ok = undefined
          this.observer?.ended(this.labels, 'ok')
        })
      },
      failed: kind => {
        clearImmediate(ok)
        ok = undefined
        this.failed(kind)
      },
      bytesIn: bytes => {
        if (firstByte) {
          firstByte = false
          this.observer?.firstByte(this.labels, (performance.now() - started) / 1000)
        }
        this.bytesIn(bytes)
      },
      bytesOut: bytes => { this.bytesOut(bytes) }
    }
  }

  snapshot (): TunnelStatsView {
    return { ...this.view, failures: { ...this.view.failures } }
  }
}
