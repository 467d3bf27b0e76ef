import type { Status } from '../envelope/index.ts'

/** The responder refused the tunnel: `status` and `reason` are what its response envelope said. */
export class TunnelRefusedError extends Error {
  override name = 'TunnelRefusedError'
  readonly status: Status

  constructor (status: Status, reason: string) {
    super(reason)
    this.status = status
  }
}

/** Streams from peers this node does not trust are reset before their first byte is read. */
export class UntrustedPeerError extends Error {
  override name = 'UntrustedPeerError'
}

/** An open tunnel was cut by the other node or by the loss of the connection under it, not by its local end. */
export class TunnelInterruptedError extends Error {
  override name = 'TunnelInterruptedError'
}

/** A half-closed tunnel carried nothing for the half-closed idle timeout: both ends are reset. */
export class HalfClosedIdleError extends Error {
  override name = 'HalfClosedIdleError'
}

/** Bytes arrived for a local socket that is already closed: the stream is reset, as TCP would answer with a RST. */
export class LocalSocketClosedError extends Error {
  override name = 'LocalSocketClosedError'
}

/** A tunnel held by backpressure carried no byte for the stalled timeout: both ends are reset. */
export class StalledTunnelError extends Error {
  override name = 'StalledTunnelError'
}
