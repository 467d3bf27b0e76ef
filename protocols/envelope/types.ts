import type { ProtocolType, RoutingHint, Status } from './constants.ts'

/** Names one option: its 16-bit class and its 8-bit type (critical bit included). */
export interface OptionId {
  optionClass: number
  type: number
}

/** An option as it is on the wire; `data` is a whole number of 4-byte words. */
export interface RawOption extends OptionId {
  data: Uint8Array
}

/** The base header fields a caller chooses; the C bit follows from the options. */
export interface EnvelopeHeader {
  /** O bit: a control message, no payload follows. */
  oam: boolean
  protocolType: number
  vni: number
}

/** W3C trace context, as lower-case hex like OpenTelemetry's SpanContext. */
export interface TraceContext {
  /** 32 hex digits, not all zero. */
  traceId: string
  /** 16 hex digits (the sender's span, the receiver's parent), not all zero. */
  spanId: string
  /** The W3C trace-flags byte (bit 0: sampled). */
  traceFlags: number
}

/** Free-form agent metadata: keys match METADATA_KEY_PATTERN. */
export type Metadata = Readonly<Record<string, string>>

/** Every protocol type except NONE: what a stream's payload can be. */
export type PayloadProtocolType = Exclude<ProtocolType, typeof ProtocolType.NONE>

/** What opens a tunnelled stream. */
export interface RequestInit {
  service: string
  vni: number
  protocolType: PayloadProtocolType
  trace?: TraceContext
  trustToken?: Uint8Array
  /** Milliseconds the requester will wait, counted from when it sends the envelope (1 to 2^32 - 1). */
  deadline?: number
  routing?: RoutingHint
  metadata?: Metadata
}

interface ResponseCommon {
  /** The request's VNI, or 0 when the request could not be decoded. */
  vni: number
  reason?: string
  trace?: TraceContext
  metadata?: Metadata
}

type OkStatus = typeof Status.OK
type UnsupportedCriticalOptionStatus = typeof Status.UNSUPPORTED_CRITICAL_OPTION

/**
 * The responder's answer. OK echoes the request's protocol type (its payload
 * follows); an error carries none (O bit, protocol type NONE) and the
 * responder closes the stream after it.
 */
export type ResponseInit = ResponseCommon & (
  | { status: OkStatus, protocolType: PayloadProtocolType }
  | { status: UnsupportedCriticalOptionStatus, unsupportedOption: OptionId }
  | { status: Exclude<Status, OkStatus | UnsupportedCriticalOptionStatus> }
)

/** Options that were skipped: unknown, non-critical, in the order received. */
interface Skipped {
  skippedOptions: RawOption[]
}

export type RequestEnvelope = RequestInit & Skipped
export type ResponseEnvelope = ResponseInit & Skipped & { reason: string }
