/**
 * Every number of the envelope wire format, with the reason beside it.
 * protocols/envelope/SPEC.md is the normative text; keep the two in step.
 */

/** RFC 8926 section 3.4: version 0 is the only one defined. */
export const VERSION = 0

/** The fixed base header: Ver/Opt Len, flags, Protocol Type, VNI, Reserved. */
export const BASE_HEADER_BYTES = 8

/** Opt Len and option Length count 4-byte words. */
export const WORD_BYTES = 4

/** Opt Len is 6 bits: at most 63 words of options (the 252-byte budget). */
export const MAX_OPTIONS_BYTES = 63 * WORD_BYTES

/** The longest possible envelope, so the decoder never buffers more than this. */
export const MAX_ENVELOPE_BYTES = BASE_HEADER_BYTES + MAX_OPTIONS_BYTES

/** Option class (16 bits), type (8 bits), reserved bits and Length (5 bits). */
export const OPTION_HEADER_BYTES = 4

/** An option's Length is 5 bits: at most 31 words of data. */
export const MAX_OPTION_DATA_BYTES = 31 * WORD_BYTES

/** Largest VNI: the field is 24 bits. */
export const MAX_VNI = 0xff_ffff

/** Bits of the first two header bytes. */
export const VERSION_SHIFT = 6
export const OPT_LEN_MASK = 0x3f
export const OAM_FLAG = 0x80
export const CRITICAL_FLAG = 0x40

/** The high bit of an option type marks it critical (RFC 8926 section 3.5). */
export const CRITICAL_TYPE_BIT = 0x80
export const OPTION_LENGTH_MASK = 0x1f

/**
 * The one option class agentmesh uses. It lies in the experimental range both
 * of RFC 8926 (0xFF00-0xFFFF) and of the older drafts that Wireshark and
 * tcpdump still follow (0xFFF0-0xFFFF), so IANA never assigns it to a vendor
 * and dissectors label it "Experimental". Not 0xFFF0 or 0xFFFF, the values
 * other experiments are most likely to pick.
 */
export const AGENTMESH_OPTION_CLASS = 0xfffa

/** Option types of AGENTMESH_OPTION_CLASS; the value includes the critical bit. */
export const OptionType = {
  /** Which exposed service the stream is for; critical: a stream without it is meaningless. */
  SERVICE: 0x81,
  /** The responder's verdict; critical: a requester must not send data on an unread status. */
  STATUS: 0x82,
  /** W3C trace context: trace id, parent span id, trace flags. */
  TRACE_CONTEXT: 0x03,
  /** Opaque credential; skipping it can only make a responder stricter. */
  TRUST_TOKEN: 0x04,
  /** Milliseconds the requester will wait, counted from sending the envelope. */
  DEADLINE: 0x05,
  /** Which paths the requester accepts for this stream. */
  ROUTING_HINT: 0x06,
  /** One free-form key/value pair of agent metadata; may repeat with distinct keys. */
  METADATA: 0x07
} as const
export type OptionType = typeof OptionType[keyof typeof OptionType]

/**
 * What the stream's payload is. Values below 0x0600 are IEEE 802.3 length
 * values, never EtherTypes, so no Geneve receiver mistakes the payload for a
 * real L2/L3 protocol. Wireshark keeps a few of them for internal use
 * (0x0059, 0x0061, 0x0065, 0x0067, 0x00FD): the registry avoids those.
 */
export const ProtocolType = {
  /** No payload follows: error responses only (O bit set). */
  NONE: 0x0000,
  /** Opaque TCP byte stream. */
  TCP: 0x0001,
  HTTP1: 0x0002,
  HTTP2: 0x0003,
  /** gRPC, which runs over HTTP/2 but is worth telling apart in logs and policy. */
  GRPC: 0x0004,
  SSH: 0x0005,
  TLS: 0x0006
} as const
export type ProtocolType = typeof ProtocolType[keyof typeof ProtocolType]

/** The status option's code: the responder's verdict on a request. */
export const Status = {
  OK: 0,
  UNKNOWN_SERVICE: 1,
  DENIED: 2,
  SERVICE_UNREACHABLE: 3,
  BAD_ENVELOPE: 4,
  UNSUPPORTED_CRITICAL_OPTION: 5,
  WRONG_NETWORK: 6,
  OVERLOADED: 7
} as const
export type Status = typeof Status[keyof typeof Status]

const STATUS_NAMES = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code, name.toLowerCase()]))

/** `Status.UNKNOWN_SERVICE` -> `unknown_service`: the name logs and counters use. */
export function statusName (status: number): string {
  return STATUS_NAMES.get(status) ?? `status_${status}`
}

/** The routing hint's policy byte. */
export const RoutingHint = {
  DIRECT_ONLY: 1,
  RELAY_ALLOWED: 2
} as const
export type RoutingHint = typeof RoutingHint[keyof typeof RoutingHint]

/** Service names: a DNS-label-like ASCII token, safe to log and to use in a path. */
export const MAX_SERVICE_NAME_BYTES = 64
export const SERVICE_NAME_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${MAX_SERVICE_NAME_BYTES - 1}}$`)

/** A credential of up to 123 bytes: what fits one option after its length byte. */
export const MAX_TRUST_TOKEN_BYTES = MAX_OPTION_DATA_BYTES - 1

/** Metadata keys are lower-case ASCII tokens; starting alphanumeric also keeps out `__proto__`. */
export const MAX_METADATA_KEY_BYTES = 32
export const METADATA_KEY_PATTERN = new RegExp(`^[a-z0-9][a-z0-9._-]{0,${MAX_METADATA_KEY_BYTES - 1}}$`)
/** The longest key and its value fit one option after their two length bytes. */
export const MAX_METADATA_VALUE_BYTES = MAX_OPTION_DATA_BYTES - 2 - MAX_METADATA_KEY_BYTES

/** A short reason: what fits one status option after code, offending option and length. */
export const MAX_REASON_BYTES = MAX_OPTION_DATA_BYTES - 5

/** W3C trace context: 16-byte trace id, 8-byte parent span id, flags, 3 reserved. */
export const TRACE_ID_BYTES = 16
export const SPAN_ID_BYTES = 8
export const TRACE_CONTEXT_DATA_BYTES = 28

/** The deadline is an unsigned 32-bit count of milliseconds (about 49 days). */
export const MAX_DEADLINE_MS = 0xffff_ffff

/**
 * How long a responder waits for a whole request envelope after the stream
 * opens. A few seconds is ample for at most 260 bytes, even over a relay, and
 * bounds what a peer that opens streams and sends nothing can tie up.
 */
export const HEADER_TIMEOUT_MS = 5_000

/** Whether `value` is one of a registry's values, narrowing it to that registry's type. */
export function isRegistered <T extends number> (registry: Readonly<Record<string, T>>, value: number): value is T {
  return (Object.values(registry) as number[]).includes(value)
}

/** Whether `value` is an integer from 0 to `max`. */
export function isUint (value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max
}
