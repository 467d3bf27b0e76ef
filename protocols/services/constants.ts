export const PROTOCOL_PREFIX = 'agentmesh'
export const PROTOCOL_NAME = 'services'
export const PROTOCOL_VERSION = '1.0.0'
export const SERVICES_PROTOCOL = `/${PROTOCOL_PREFIX}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`

/** The format version of the query and the answer. */
export const SERVICES_FORMAT_VERSION = 1

/** A query: the version byte and a 24-bit VNI. */
export const QUERY_BYTES = 4

/**
 * An answer: the version, a member record (at most 4096 bytes, protocols/records) and at
 * most 32 services of at most 68 bytes each; 8 KiB holds that with room to spare, and
 * anything larger is refused before it is buffered.
 */
export const MAX_ANSWER_BYTES = 8 * 1024

/** The whole exchange, dial excluded: one round trip and a signature. */
export const QUERY_TIMEOUT_MS = 5_000

/** Queries one connection may have open at once, each way. */
export const MAX_STREAMS = 8
