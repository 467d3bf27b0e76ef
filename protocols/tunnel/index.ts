/**
 * @packageDocumentation
 *
 * `/agentmesh/tunnel/1.0.0`: one TCP connection per libp2p stream, opened by a request
 * envelope and answered by a response envelope (see ../envelope), then bytes both ways
 * with TCP's half-close, reset and backpressure semantics. SPEC.md is the normative text.
 */
export { HALF_CLOSED_IDLE_MS, MAX_READ_BUFFER_BYTES, MIN_STREAM_WINDOW_BYTES, STALLED_MS, STREAM_CHUNK_BYTES, STREAM_WINDOW_BYTES, TUNNEL_PROTOCOL, tunnelStreamLimit } from './constants.ts'
export { connectTcp } from './connect-tcp.ts'
export { HalfClosedIdleError, LocalSocketClosedError, StalledTunnelError, TunnelInterruptedError, TunnelRefusedError, UntrustedPeerError } from './errors.ts'
export { tunnelHandler } from './handler.ts'
export { openTunnel } from './open.ts'
export type { OpenTunnelOptions } from './open.ts'
export type { Authorization, Service, TunnelHandlerComponents, TunnelHandlerInit } from './handler.ts'
export type { TunnelCounters, TunnelLog } from './counters.ts'
