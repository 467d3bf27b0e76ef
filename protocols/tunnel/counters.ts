import type { Status } from '../envelope/index.ts'

/** What the tunnel code reports about each service or forward; the daemon keeps the numbers. */
export interface TunnelCounters {
  opened(): void
  closed(): void
  /** a refused or failed tunnel, by its status, or by a local kind such as `peer_unreachable` */
  failed(kind: Status | string): void
  /** bytes from the remote peer written to the local socket */
  bytesIn(bytes: number): void
  /** bytes from the local socket sent to the remote peer */
  bytesOut(bytes: number): void
}

/** The logging the tunnel code needs (pino's shape). */
export interface TunnelLog {
  debug(context: object, message: string): void
  info(context: object, message: string): void
  warn(context: object, message: string): void
}
