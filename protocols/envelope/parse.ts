/**
 * Turns the bytes of one whole envelope into a request or a response. The
 * checks run in the order SPEC.md gives ("Limits and violations"); the first
 * failure decides the error.
 */

import {
  AGENTMESH_OPTION_CLASS, BASE_HEADER_BYTES, CRITICAL_FLAG, isRegistered, OAM_FLAG, OPT_LEN_MASK,
  OPTION_HEADER_BYTES, OPTION_LENGTH_MASK, OptionType, ProtocolType, Status, VERSION, VERSION_SHIFT, WORD_BYTES
} from './constants.ts'
import {
  ControlFlagMismatchError, CriticalFlagMismatchError, DuplicateOptionError, hex, MissingOptionError,
  OptionOverrunError, UnexpectedOptionError, UnknownProtocolTypeError, UnsupportedCriticalOptionError,
  UnsupportedVersionError
} from './errors.ts'
import {
  deadlineOption, isCritical, metadataOption, routingHintOption, serviceOption, statusOption,
  traceContextOption, trustTokenOption
} from './options.ts'
import type { Verdict } from './options.ts'
import type {
  EnvelopeHeader, PayloadProtocolType, RawOption, RequestEnvelope, RequestInit, ResponseEnvelope
} from './types.ts'

/**
 * The whole envelope's length, read from its first byte. The version comes
 * first: under another version even Opt Len could mean something else.
 */
export function envelopeLength (firstByte: number): number {
  const version = firstByte >>> VERSION_SHIFT
  if (version !== VERSION) {
    throw new UnsupportedVersionError(`version ${version}; only ${VERSION} is supported`)
  }
  return BASE_HEADER_BYTES + (firstByte & OPT_LEN_MASK) * WORD_BYTES
}

const REQUEST_OPTIONS: ReadonlySet<number> = new Set([
  OptionType.SERVICE, OptionType.TRACE_CONTEXT, OptionType.TRUST_TOKEN, OptionType.DEADLINE,
  OptionType.ROUTING_HINT, OptionType.METADATA
])
const RESPONSE_OPTIONS: ReadonlySet<number> = new Set([
  OptionType.STATUS, OptionType.TRACE_CONTEXT, OptionType.METADATA
])

/** `envelope` holds exactly one envelope: envelopeLength(envelope[0]) bytes. */
export function parseRequest (envelope: Uint8Array): RequestEnvelope {
  const { header, options } = readFrame(envelope)
  // a request cannot hold a verdict (REQUEST_OPTIONS); naming it keeps it out of `optional`
  const { service, verdict, ...optional } = readOptions(options, REQUEST_OPTIONS)
  if (service === undefined) {
    throw new MissingOptionError('a request needs a service option')
  }
  checkPayloadFlags(header, true)
  return { service, vni: header.vni, protocolType: header.protocolType as PayloadProtocolType, ...optional }
}

/** `envelope` holds exactly one envelope: envelopeLength(envelope[0]) bytes. */
export function parseResponse (envelope: Uint8Array): ResponseEnvelope {
  const { header, options } = readFrame(envelope)
  // nor a response a service (RESPONSE_OPTIONS)
  const { service, verdict, ...optional } = readOptions(options, RESPONSE_OPTIONS)
  if (verdict === undefined) {
    throw new MissingOptionError('a response needs a status option')
  }
  const ok = verdict.status === Status.OK
  checkPayloadFlags(header, ok)
  // the flags checked above tie the protocol type to the status as ResponseEnvelope requires
  return { vni: header.vni, ...verdict, ...(ok && { protocolType: header.protocolType }), ...optional } as ResponseEnvelope
}

interface Frame {
  header: EnvelopeHeader
  options: RawOption[]
}

function readFrame (envelope: Uint8Array): Frame {
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength)
  const protocolType = view.getUint16(2)
  if (!isRegistered(ProtocolType, protocolType)) {
    throw new UnknownProtocolTypeError(`protocol type ${hex(protocolType, 4)} is not in the registry`)
  }
  const options = splitOptions(envelope, view)
  const critical = (envelope[1] & CRITICAL_FLAG) !== 0
  if (critical !== options.some(isCritical)) {
    throw new CriticalFlagMismatchError(critical ? 'C bit set without a critical option' : 'C bit clear with a critical option')
  }
  return {
    header: { oam: (envelope[1] & OAM_FLAG) !== 0, protocolType, vni: view.getUint32(4) >>> 8 },
    options
  }
}

/** Cuts the options area into options, checking each Length against the bytes left first. */
function splitOptions (envelope: Uint8Array, view: DataView): RawOption[] {
  const options: RawOption[] = []
  // Opt Len counts words, so at least one 4-byte option header is left whenever the loop runs
  for (let offset = BASE_HEADER_BYTES; offset < envelope.length;) {
    const end = offset + OPTION_HEADER_BYTES + (envelope[offset + 3] & OPTION_LENGTH_MASK) * WORD_BYTES
    if (end > envelope.length) {
      throw new OptionOverrunError(`the option at byte ${offset} takes ${end - offset} bytes; ${envelope.length - offset} are left`)
    }
    options.push({
      optionClass: view.getUint16(offset),
      type: envelope[offset + 2],
      data: envelope.subarray(offset + OPTION_HEADER_BYTES, end)
    })
    offset = end
  }
  return options
}

/** Every option either envelope may carry, as decoded so far; absent ones stay absent (not undefined). */
interface KnownOptions extends Omit<RequestInit, 'service' | 'vni' | 'protocolType' | 'metadata'> {
  service?: string
  verdict?: Verdict
  metadata?: Record<string, string>
  skippedOptions: RawOption[]
}

function readOptions (options: RawOption[], allowed: ReadonlySet<number>): KnownOptions {
  const known: KnownOptions = { skippedOptions: [] }
  const seen = new Set<number>()
  for (const option of options) {
    const { type, data } = option
    if (option.optionClass !== AGENTMESH_OPTION_CLASS || !isRegistered(OptionType, type)) {
      if (isCritical(option)) {
        throw new UnsupportedCriticalOptionError({ optionClass: option.optionClass, type })
      }
      // a copy: the caller may keep it longer than the stream's buffers
      known.skippedOptions.push({ optionClass: option.optionClass, type, data: data.slice() })
      continue
    }
    if (!allowed.has(type)) {
      throw new UnexpectedOptionError(`option type ${hex(type, 2)} does not belong in this kind of envelope`)
    }
    // metadata repeats, one key per option; its keys are checked below
    if (type !== OptionType.METADATA && seen.has(type)) {
      throw new DuplicateOptionError(`option type ${hex(type, 2)} appears twice`)
    }
    seen.add(type)
    switch (type) {
      case OptionType.SERVICE: known.service = serviceOption.decode(data); break
      case OptionType.STATUS: known.verdict = statusOption.decode(data); break
      case OptionType.TRACE_CONTEXT: known.trace = traceContextOption.decode(data); break
      case OptionType.TRUST_TOKEN: known.trustToken = trustTokenOption.decode(data); break
      case OptionType.DEADLINE: known.deadline = deadlineOption.decode(data); break
      case OptionType.ROUTING_HINT: known.routing = routingHintOption.decode(data); break
      case OptionType.METADATA: {
        const [key, value] = metadataOption.decode(data)
        known.metadata ??= {}
        if (Object.hasOwn(known.metadata, key)) {
          throw new DuplicateOptionError(`metadata key ${JSON.stringify(key)} appears twice`)
        }
        known.metadata[key] = value
        break
      }
    }
  }
  return known
}

/** O set and protocol type NONE both say "no payload follows": true of error responses only. */
function checkPayloadFlags (header: EnvelopeHeader, payloadFollows: boolean): void {
  const envelope = payloadFollows ? 'an envelope that a payload follows' : 'an error response, after which nothing follows'
  if (header.oam === payloadFollows) {
    throw new ControlFlagMismatchError(`O bit ${header.oam ? 'set' : 'clear'} on ${envelope}`)
  }
  if ((header.protocolType === ProtocolType.NONE) === payloadFollows) {
    throw new ControlFlagMismatchError(`protocol type ${hex(header.protocolType, 4)} on ${envelope}`)
  }
}
