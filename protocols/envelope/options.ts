/**
 * The data layout of each agentmesh option (SPEC.md, "Option registry"). Each
 * codec validates on both sides with the same checks, so the encoder never
 * writes what the decoder would refuse.
 */

import { fromString as fromHex } from 'uint8arrays/from-string'
import { toString as toHex } from 'uint8arrays/to-string'
import {
  CRITICAL_TYPE_BIT, isRegistered, isUint, MAX_DEADLINE_MS, MAX_METADATA_KEY_BYTES, MAX_METADATA_VALUE_BYTES,
  MAX_REASON_BYTES, MAX_SERVICE_NAME_BYTES, MAX_TRUST_TOKEN_BYTES, METADATA_KEY_PATTERN, OptionType, RoutingHint,
  SERVICE_NAME_PATTERN, SPAN_ID_BYTES, Status, TRACE_CONTEXT_DATA_BYTES, TRACE_ID_BYTES, WORD_BYTES
} from './constants.ts'
import { MalformedOptionError } from './errors.ts'
import type { OptionId, TraceContext } from './types.ts'

export interface OptionCodec<T> {
  readonly type: OptionType
  /** For error messages. */
  readonly name: string
  /** The option data, zero-padded to whole words. */
  encode(value: T): Uint8Array
  decode(data: Uint8Array): T
}

/** The status option's value. */
export interface Verdict {
  status: Status
  reason: string
  unsupportedOption?: OptionId
}

/** RFC 8926 section 3.5: the high bit of the type marks an option critical. */
export function isCritical (option: OptionId): boolean {
  return (option.type & CRITICAL_TYPE_BIT) !== 0
}

const utf8Encoder = new TextEncoder()
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading BOM is data, not stripped
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function malformed (name: string, why: string): MalformedOptionError {
  return new MalformedOptionError(`${name} option: ${why}`)
}

function paddedLength (bytes: number): number {
  return Math.ceil(bytes / WORD_BYTES) * WORD_BYTES
}

/** Lays out `head`, then each field behind a one-byte length, zero-padded to whole words. */
function pack (head: Uint8Array, fields: Uint8Array[]): Uint8Array {
  const used = fields.reduce((sum, field) => sum + 1 + field.length, head.length)
  const data = new Uint8Array(paddedLength(used))
  data.set(head)
  let offset = head.length
  for (const field of fields) {
    data[offset] = field.length
    data.set(field, offset + 1)
    offset += 1 + field.length
  }
  return data
}

/**
 * The reverse of `pack`: reads the length-prefixed fields after `headBytes`,
 * checking each length against its cap and the data at hand before slicing,
 * and requires the option to be exactly as long as its content padded.
 */
function unpack (name: string, data: Uint8Array, headBytes: number, caps: readonly number[]): Uint8Array[] {
  let offset = headBytes
  const fields = caps.map((cap) => {
    if (offset >= data.length) {
      throw malformed(name, `${data.length} bytes, too short for its fields`)
    }
    const length = data[offset]
    if (length > cap) {
      throw malformed(name, `a field of ${length} bytes exceeds its cap of ${cap}`)
    }
    const end = offset + 1 + length
    if (end > data.length) {
      throw malformed(name, `a field of ${length} bytes runs past the option's ${data.length} bytes`)
    }
    const field = data.subarray(offset + 1, end)
    offset = end
    return field
  })
  expectLength(name, data, offset)
  return fields
}

function expectLength (name: string, data: Uint8Array, usedBytes: number): void {
  if (data.length !== paddedLength(usedBytes)) {
    throw malformed(name, `${data.length} bytes where ${paddedLength(usedBytes)} were expected`)
  }
}

function encodeUtf8 (name: string, value: string, cap: number): Uint8Array {
  if (!value.isWellFormed()) {
    throw malformed(name, 'text is not well-formed Unicode')
  }
  const bytes = utf8Encoder.encode(value)
  if (bytes.length > cap) {
    throw malformed(name, `text of ${bytes.length} bytes exceeds its cap of ${cap}`)
  }
  return bytes
}

/**
 * Cuts UTF-8 text to at most `maxBytes` without splitting a character, so a
 * responder can always send a reason, whatever text an error message holds.
 */
function truncateUtf8 (bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes.length <= maxBytes) {
    return bytes
  }
  let end = maxBytes
  // back off continuation bytes (10xxxxxx) to the start of the cut character
  while ((bytes[end] & 0xc0) === 0x80) {
    end--
  }
  return bytes.subarray(0, end)
}

function decodeUtf8 (name: string, bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes)
  } catch {
    throw malformed(name, 'text is not valid UTF-8')
  }
}

function checkPattern (name: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) {
    throw malformed(name, `${JSON.stringify(value)} does not match ${pattern}`)
  }
}

const NO_HEAD = new Uint8Array(0)

export const serviceOption: OptionCodec<string> = {
  type: OptionType.SERVICE,
  name: 'service',
  encode (service) {
    checkPattern(this.name, service, SERVICE_NAME_PATTERN)
    return pack(NO_HEAD, [encodeUtf8(this.name, service, MAX_SERVICE_NAME_BYTES)])
  },
  decode (data) {
    const [bytes] = unpack(this.name, data, 0, [MAX_SERVICE_NAME_BYTES])
    const service = decodeUtf8(this.name, bytes)
    checkPattern(this.name, service, SERVICE_NAME_PATTERN)
    return service
  }
}

const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/
const SPAN_ID_PATTERN = /^[0-9a-f]{16}$/
const FLAGS_OFFSET = TRACE_ID_BYTES + SPAN_ID_BYTES

// W3C trace context: all-zero ids are invalid, flags are one byte
function checkTrace (name: string, trace: TraceContext): void {
  checkPattern(name, trace.traceId, TRACE_ID_PATTERN)
  checkPattern(name, trace.spanId, SPAN_ID_PATTERN)
  if (/^0+$/.test(trace.traceId) || /^0+$/.test(trace.spanId)) {
    throw malformed(name, 'an all-zero trace id or span id is invalid')
  }
  if (!Number.isInteger(trace.traceFlags) || trace.traceFlags < 0 || trace.traceFlags > 0xff) {
    throw malformed(name, `trace flags ${trace.traceFlags} do not fit a byte`)
  }
}

export const traceContextOption: OptionCodec<TraceContext> = {
  type: OptionType.TRACE_CONTEXT,
  name: 'trace context',
  encode (trace) {
    checkTrace(this.name, trace)
    const data = new Uint8Array(TRACE_CONTEXT_DATA_BYTES)
    data.set(fromHex(trace.traceId, 'base16'))
    data.set(fromHex(trace.spanId, 'base16'), TRACE_ID_BYTES)
    data[FLAGS_OFFSET] = trace.traceFlags
    return data
  },
  decode (data) {
    expectLength(this.name, data, TRACE_CONTEXT_DATA_BYTES)
    const trace = {
      traceId: toHex(data.subarray(0, TRACE_ID_BYTES), 'base16'),
      spanId: toHex(data.subarray(TRACE_ID_BYTES, FLAGS_OFFSET), 'base16'),
      traceFlags: data[FLAGS_OFFSET]
    }
    checkTrace(this.name, trace)
    return trace
  }
}

export const trustTokenOption: OptionCodec<Uint8Array> = {
  type: OptionType.TRUST_TOKEN,
  name: 'trust token',
  encode (token) {
    if (token.length === 0 || token.length > MAX_TRUST_TOKEN_BYTES) {
      throw malformed(this.name, `${token.length} bytes; 1 to ${MAX_TRUST_TOKEN_BYTES} allowed`)
    }
    return pack(NO_HEAD, [token])
  },
  decode (data) {
    const [token] = unpack(this.name, data, 0, [MAX_TRUST_TOKEN_BYTES])
    if (token.length === 0) {
      throw malformed(this.name, 'empty')
    }
    // a copy: the caller may keep the token longer than the stream's buffers
    return token.slice()
  }
}

const U32_BYTES = 4

export const deadlineOption: OptionCodec<number> = {
  type: OptionType.DEADLINE,
  name: 'deadline',
  encode (deadline) {
    if (!Number.isInteger(deadline) || deadline < 1 || deadline > MAX_DEADLINE_MS) {
      throw malformed(this.name, `${deadline} ms; 1 to ${MAX_DEADLINE_MS} allowed`)
    }
    const data = new Uint8Array(U32_BYTES)
    new DataView(data.buffer).setUint32(0, deadline)
    return data
  },
  decode (data) {
    expectLength(this.name, data, U32_BYTES)
    const deadline = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)
    if (deadline === 0) {
      throw malformed(this.name, '0 ms; 1 to 2^32 - 1 allowed')
    }
    return deadline
  }
}

export const routingHintOption: OptionCodec<RoutingHint> = {
  type: OptionType.ROUTING_HINT,
  name: 'routing hint',
  encode (routing) {
    checkRoutingHint(this.name, routing)
    return pack(new Uint8Array([routing]), [])
  },
  decode (data) {
    expectLength(this.name, data, 1)
    return checkRoutingHint(this.name, data[0])
  }
}

function checkRoutingHint (name: string, value: number): RoutingHint {
  if (!isRegistered(RoutingHint, value)) {
    throw malformed(name, `unknown policy ${value}`)
  }
  return value
}

/** One metadata option carries one key/value pair. */
export const metadataOption: OptionCodec<[key: string, value: string]> = {
  type: OptionType.METADATA,
  name: 'metadata',
  encode ([key, value]) {
    checkPattern(this.name, key, METADATA_KEY_PATTERN)
    return pack(NO_HEAD, [
      encodeUtf8(this.name, key, MAX_METADATA_KEY_BYTES),
      encodeUtf8(this.name, value, MAX_METADATA_VALUE_BYTES)
    ])
  },
  decode (data) {
    const [keyBytes, valueBytes] = unpack(this.name, data, 0, [MAX_METADATA_KEY_BYTES, MAX_METADATA_VALUE_BYTES])
    const key = decodeUtf8(this.name, keyBytes)
    checkPattern(this.name, key, METADATA_KEY_PATTERN)
    return [key, decodeUtf8(this.name, valueBytes)]
  }
}

// code, offending option type, offending option class (u16): zero unless UNSUPPORTED_CRITICAL_OPTION
const STATUS_HEAD_BYTES = 4

export const statusOption: OptionCodec<Verdict> = {
  type: OptionType.STATUS,
  name: 'status',
  encode ({ status, reason, unsupportedOption }) {
    checkStatusCode(this.name, status)
    if ((status === Status.UNSUPPORTED_CRITICAL_OPTION) !== (unsupportedOption !== undefined)) {
      throw malformed(this.name, 'names an option exactly when the code is UNSUPPORTED_CRITICAL_OPTION')
    }
    const head = new Uint8Array(STATUS_HEAD_BYTES)
    head[0] = status
    if (unsupportedOption !== undefined) {
      checkOptionId(this.name, unsupportedOption)
      head[1] = unsupportedOption.type
      new DataView(head.buffer).setUint16(2, unsupportedOption.optionClass)
    }
    return pack(head, [truncateUtf8(utf8Encoder.encode(reason.toWellFormed()), MAX_REASON_BYTES)])
  },
  decode (data) {
    const [reasonBytes] = unpack(this.name, data, STATUS_HEAD_BYTES, [MAX_REASON_BYTES])
    const status = checkStatusCode(this.name, data[0])
    const reason = decodeUtf8(this.name, reasonBytes)
    if (status !== Status.UNSUPPORTED_CRITICAL_OPTION) {
      return { status, reason }
    }
    const optionClass = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint16(2)
    return { status, reason, unsupportedOption: { optionClass, type: data[1] } }
  }
}

function checkStatusCode (name: string, status: number): Status {
  if (!isRegistered(Status, status)) {
    throw malformed(name, `unknown status code ${status}`)
  }
  return status
}

function checkOptionId (name: string, { optionClass, type }: OptionId): void {
  if (!isUint(optionClass, 0xffff) || !isUint(type, 0xff)) {
    throw malformed(name, `option class ${optionClass} type ${type} do not fit 16 and 8 bits`)
  }
}
