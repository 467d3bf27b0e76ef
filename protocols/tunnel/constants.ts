export const PROTOCOL_PREFIX = 'agentmesh'
export const PROTOCOL_NAME = 'tunnel'
export const PROTOCOL_VERSION = '1.0.0'
export const TUNNEL_PROTOCOL = `/${PROTOCOL_PREFIX}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`

/** How long the responder may take to connect to the local service before answering SERVICE_UNREACHABLE. */
export const SERVICE_DIAL_TIMEOUT_MS = 10_000

/**
 * How long the opener waits for the response envelope: the responder's header timeout
 * and its service dial, plus a margin for the network.
 */
export const RESPONSE_TIMEOUT_MS = 20_000

/**
 * A paused stream keeps receiving until the sender's yamux window is spent, so its read
 * buffer must hold a whole window: above libp2p's 4 MiB default, the stream would be
 * reset instead of slowed down. Matches `maxStreamWindowSize` in the node's yamux.
 */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024
export const MAX_READ_BUFFER_BYTES = STREAM_WINDOW_BYTES + 1024 * 1024
