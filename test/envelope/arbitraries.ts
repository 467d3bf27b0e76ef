/** fast-check arbitraries for valid envelopes, within every cap of SPEC.md. */

import fc from 'fast-check'
import { toString as toHex } from 'uint8arrays/to-string'
import {
  AGENTMESH_OPTION_CLASS, encodeEnvelope, encodeRequest, encodeResponse, MAX_ENVELOPE_BYTES,
  MAX_METADATA_VALUE_BYTES, MAX_REASON_BYTES, MAX_TRUST_TOKEN_BYTES, MAX_VNI, METADATA_KEY_PATTERN,
  OptionBudgetExceededError, OptionType, ProtocolType, RoutingHint, SERVICE_NAME_PATTERN, Status
} from '../../protocols/envelope/index.ts'
import type {
  PayloadProtocolType, RawOption, RequestInit, ResponseInit, TraceContext
} from '../../protocols/envelope/index.ts'
import { concatBytes } from './helpers.ts'

/** Text of at most `maxBytes` of UTF-8: any code points (up to 4 bytes each), or ASCII up to the cap. */
function utf8Text (maxBytes: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: Math.floor(maxBytes / 4) }),
    fc.string({ unit: 'binary-ascii', maxLength: maxBytes })
  )
}

/** A non-zero id of `bytes` bytes, as lower-case hex. */
function hexId (bytes: number): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: bytes, maxLength: bytes })
    .filter((id) => id.some((byte) => byte !== 0))
    .map((id) => toHex(id, 'base16'))
}

// plain objects, as the decoder makes: fast-check may otherwise pick null prototypes
const plain = { noNullPrototype: true } as const

const trace: fc.Arbitrary<TraceContext> = fc.record({
  traceId: hexId(16),
  spanId: hexId(8),
  traceFlags: fc.integer({ min: 0, max: 0xff })
}, plain)

const metadata = fc.dictionary(fc.stringMatching(METADATA_KEY_PATTERN), utf8Text(MAX_METADATA_VALUE_BYTES), {
  ...plain, minKeys: 1, maxKeys: 4
})

const vni = fc.integer({ min: 0, max: MAX_VNI })

const payloadProtocolType = fc.constantFrom(
  ...Object.values(ProtocolType).filter((type): type is PayloadProtocolType => type !== ProtocolType.NONE)
)

function fitsBudget (encode: () => Uint8Array): boolean {
  try {
    encode()
    return true
  } catch (err) {
    if (err instanceof OptionBudgetExceededError) return false
    throw err
  }
}

export const requestInit: fc.Arbitrary<RequestInit> = fc.record({
  service: fc.stringMatching(SERVICE_NAME_PATTERN),
  vni,
  protocolType: payloadProtocolType,
  trace,
  trustToken: fc.uint8Array({ minLength: 1, maxLength: MAX_TRUST_TOKEN_BYTES }),
  deadline: fc.integer({ min: 1, max: 0xffff_ffff }),
  routing: fc.constantFrom(...Object.values(RoutingHint)),
  metadata
}, { ...plain, requiredKeys: ['service', 'vni', 'protocolType'] }).filter((init) => fitsBudget(() => encodeRequest(init)))

const verdict = fc.oneof(
  fc.record({ status: fc.constant(Status.OK), protocolType: payloadProtocolType }, plain),
  fc.record({
    status: fc.constant(Status.UNSUPPORTED_CRITICAL_OPTION),
    unsupportedOption: fc.record({ optionClass: fc.integer({ min: 0, max: 0xffff }), type: fc.integer({ min: 0x80, max: 0xff }) }, plain)
  }, plain),
  fc.record({
    status: fc.constantFrom(...Object.values(Status).filter((status) => status !== Status.OK && status !== Status.UNSUPPORTED_CRITICAL_OPTION))
  }, plain)
)

export const responseInit: fc.Arbitrary<ResponseInit> = fc.tuple(
  verdict,
  fc.record({ vni, reason: utf8Text(MAX_REASON_BYTES), trace, metadata }, { ...plain, requiredKeys: ['vni'] })
).map(([status, common]) => ({ ...common, ...status }) as ResponseInit)
  .filter((init) => fitsBudget(() => encodeResponse(init)))

const REGISTERED_TYPES: number[] = Object.values(OptionType)

/** An option no receiver knows and that is not critical: one to be skipped. */
export const skippableOption: fc.Arbitrary<RawOption> = fc.record({
  optionClass: fc.integer({ min: 0, max: 0xffff }),
  type: fc.integer({ min: 0, max: 0x7f }),
  data: fc.integer({ min: 0, max: 8 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }))
}, plain).filter(({ optionClass, type }) => optionClass !== AGENTMESH_OPTION_CLASS || !REGISTERED_TYPES.includes(type))

/** The bytes of each option of an envelope, in order. */
function optionsOf (envelope: Uint8Array): Uint8Array[] {
  const options: Uint8Array[] = []
  for (let offset = 8; offset < envelope.length;) {
    const end = offset + 4 + (envelope[offset + 3] & 0x1f) * 4
    options.push(envelope.subarray(offset, end))
    offset = end
  }
  return options
}

/**
 * `envelope` with the `extra` options inserted in their order, the i-th
 * before the original option numbered `positions[i]` (after the last when
 * past it); undefined when the result would not fit.
 */
export function withExtraOptions (envelope: Uint8Array, extra: readonly RawOption[], positions: readonly number[]): Uint8Array | undefined {
  const extraBytes = optionsOf(encodeEnvelope({ oam: false, protocolType: 0, vni: 0 }, extra))
  const length = envelope.length + extraBytes.reduce((sum, option) => sum + option.length, 0)
  if (length > MAX_ENVELOPE_BYTES) return undefined
  const options = optionsOf(envelope)
  const originals = options.length
  const sorted = [...positions].sort((a, b) => a - b)
  extraBytes.forEach((option, index) => {
    // + index: past the extras already inserted, which keeps them in order
    options.splice(Math.min(sorted[index] ?? originals, originals) + index, 0, option)
  })
  const result = concatBytes(envelope.subarray(0, 8), ...options)
  result[0] = (result[0] & 0xc0) | ((length - 8) / 4)
  return result
}
