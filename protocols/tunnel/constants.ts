export const PROTOCOL_PREFIX = 'agentmesh'
export const PROTOCOL_NAME = 'tunnel'
export const PROTOCOL_VERSION = '1.0.0'
export const TUNNEL_PROTOCOL = `/${PROTOCOL_PREFIX}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`

/**
 * Streams the protocol accepts per connection beyond the tunnel limit, so that a peer
 * past its limit is answered OVERLOADED by the handler instead of having its stream
 * reset by libp2p's per-protocol stream limit, which says nothing about why.
 */
export const OVERLOAD_HEADROOM_STREAMS = 64

/** The tunnel protocol's stream limit per connection, in and out, for a tunnel limit per peer. */
export function tunnelStreamLimit (maxTunnelsPerPeer: number): number {
  return maxTunnelsPerPeer + OVERLOAD_HEADROOM_STREAMS
}

/**
 * A half-closed tunnel (one end has sent its FIN) that carries no byte for this long is
 * reset both ways: the default of config `tunnels.halfClosedIdleSeconds`. Linux's
 * conntrack forgets FIN-WAIT and CLOSE-WAIT after 2 and 1 minutes; a few minutes leave
 * room for a slow reply after a request's FIN, and bound what a vanished end can hold.
 */
export const HALF_CLOSED_IDLE_MS = 300_000

/**
 * A tunnel held by backpressure (one side does not read) that moves no byte for this
 * long is reset both ways: the default of config `tunnels.stalledSeconds`. A local
 * socket paused by backpressure does not see its client's FIN or RST until it reads
 * again, which a side that never reads would prevent for good; TCP_USER_TIMEOUT bounds
 * unacknowledged data the same way.
 */
export const STALLED_MS = 300_000

/**
 * The FIN from the far end waits until the local client's bytes have stopped flowing
 * for FIN_QUIET_MS (a round trip to the far service and back, with room for two busy
 * event loops on the way: 250 ms let 1 in 60 such RSTs lose the race on a 2-core machine
 * at a load average of 12), and at most FIN_DEFER_MAX_MS: a service that closed without reading answers
 * the client's later bytes with a RST, which must reach a client still sending before
 * the FIN lets it close cleanly.
 */
export const FIN_QUIET_MS = 500
export const FIN_DEFER_MAX_MS = 3_000

/** How long the responder may take to connect to the local service before answering SERVICE_UNREACHABLE. */
export const SERVICE_DIAL_TIMEOUT_MS = 10_000

/**
 * How long the opener waits for the response envelope: the responder's header timeout
 * and its service dial, plus a margin for the network.
 */
export const RESPONSE_TIMEOUT_MS = 20_000

/**
 * yamux renews the sender's credit on every frame it receives while the stream is
 * readable, and delivers received data on a later tick. So when the stream is paused
 * (the local socket is full), its read buffer may already hold what arrived since the
 * last delivery (more than a window when the event loop lags), and the sender may still
 * send a whole window. Past `MAX_READ_BUFFER_BYTES` libp2p resets the stream: the cap
 * must leave room for that overshoot, or a busy node would reset healthy tunnels instead
 * of slowing them. In the steady state a paused tunnel holds about one window.
 * `STREAM_WINDOW_BYTES` is the node's yamux `maxStreamWindowSize`.
 */
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024
export const MAX_READ_BUFFER_BYTES = 8 * STREAM_WINDOW_BYTES

/**
 * The smallest window a tunnel is given under memory pressure: yamux's initial stream
 * window (256 KiB), the credit every sender starts with, which a receiver cannot take back.
 */
export const MIN_STREAM_WINDOW_BYTES = 256 * 1024

/**
 * The most the tunnel hands its stream at once: one yamux frame of this (12-byte header)
 * fills one noise message (65,519 bytes of plaintext) exactly. A 64 KiB socket read
 * would otherwise leave as a full message and a 41-byte one, sealed, sent and opened on
 * its own, and re-joined by a copy on the other side (the node caps its yamux frames at
 * the same size).
 */
export const STREAM_CHUNK_BYTES = 65_519 - 12
