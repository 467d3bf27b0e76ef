import {
  AGENTMESH_OPTION_CLASS, BASE_HEADER_BYTES, CRITICAL_FLAG, isRegistered, isUint,
  MAX_OPTION_DATA_BYTES, MAX_OPTIONS_BYTES, MAX_VNI, OAM_FLAG, OPTION_HEADER_BYTES, ProtocolType, Status,
  VERSION, VERSION_SHIFT, WORD_BYTES
} from './constants.ts'
import {
  describeOption, hex, InvalidHeaderFieldError, MalformedOptionError, OptionBudgetExceededError,
  UnknownProtocolTypeError
} from './errors.ts'
import {
  deadlineOption, isCritical, metadataOption, routingHintOption, serviceOption, statusOption, traceContextOption,
  trustTokenOption
} from './options.ts'
import type { OptionCodec, Verdict } from './options.ts'
import type { EnvelopeHeader, Metadata, RawOption, RequestInit, ResponseInit } from './types.ts'

/** Encodes the envelope that opens a tunnelled stream; its payload follows it. */
export function encodeRequest (init: RequestInit): Uint8Array {
  checkPayloadProtocolType(init.protocolType)
  const options = [
    agentmeshOption(serviceOption, init.service),
    ...optionalOption(traceContextOption, init.trace),
    ...optionalOption(trustTokenOption, init.trustToken),
    ...optionalOption(deadlineOption, init.deadline),
    ...optionalOption(routingHintOption, init.routing),
    ...metadataOptions(init.metadata)
  ]
  return encodeEnvelope({ oam: false, protocolType: init.protocolType, vni: init.vni }, options)
}

/**
 * Encodes the responder's answer. OK carries the request's protocol type and
 * the payload follows; any other status sets the O bit with protocol type
 * NONE, and nothing follows.
 */
export function encodeResponse (init: ResponseInit): Uint8Array {
  const ok = init.status === Status.OK
  if (ok) checkPayloadProtocolType(init.protocolType)
  const verdict: Verdict = { status: init.status, reason: init.reason ?? '' }
  if ('unsupportedOption' in init) verdict.unsupportedOption = init.unsupportedOption
  const options = [
    agentmeshOption(statusOption, verdict),
    ...optionalOption(traceContextOption, init.trace),
    ...metadataOptions(init.metadata)
  ]
  return encodeEnvelope({ oam: !ok, protocolType: ok ? init.protocolType : ProtocolType.NONE, vni: init.vni }, options)
}

/**
 * Lays out a base header and options exactly as given (RFC 8926 sections
 * 3.4-3.5): the layer under encodeRequest/encodeResponse, for callers that
 * need an option of their own. Sets the C bit when an option is critical.
 */
export function encodeEnvelope (header: EnvelopeHeader, options: readonly RawOption[]): Uint8Array {
  if (!isUint(header.vni, MAX_VNI)) {
    throw new InvalidHeaderFieldError(`VNI ${header.vni} does not fit 24 bits`)
  }
  if (!isUint(header.protocolType, 0xffff)) {
    throw new InvalidHeaderFieldError(`protocol type ${header.protocolType} does not fit 16 bits`)
  }
  let optionsBytes = 0
  for (const option of options) {
    checkRawOption(option)
    optionsBytes += OPTION_HEADER_BYTES + option.data.length
  }
  if (optionsBytes > MAX_OPTIONS_BYTES) {
    throw new OptionBudgetExceededError(`options take ${optionsBytes} bytes; at most ${MAX_OPTIONS_BYTES} fit`)
  }

  const envelope = new Uint8Array(BASE_HEADER_BYTES + optionsBytes)
  const view = new DataView(envelope.buffer)
  envelope[0] = (VERSION << VERSION_SHIFT) | (optionsBytes / WORD_BYTES)
  envelope[1] = (header.oam ? OAM_FLAG : 0) | (options.some(isCritical) ? CRITICAL_FLAG : 0)
  view.setUint16(2, header.protocolType)
  // VNI in the top 24 bits; the low byte is Reserved and stays zero
  view.setUint32(4, header.vni * 0x100)

  let offset = BASE_HEADER_BYTES
  for (const option of options) {
    view.setUint16(offset, option.optionClass)
    envelope[offset + 2] = option.type
    envelope[offset + 3] = option.data.length / WORD_BYTES
    envelope.set(option.data, offset + OPTION_HEADER_BYTES)
    offset += OPTION_HEADER_BYTES + option.data.length
  }
  return envelope
}

function optionalOption <T> (codec: OptionCodec<T>, value: T | undefined): RawOption[] {
  return value === undefined ? [] : [agentmeshOption(codec, value)]
}

/** One option per key/value pair. */
function metadataOptions (metadata: Metadata = {}): RawOption[] {
  return Object.entries(metadata).map((entry) => agentmeshOption(metadataOption, entry))
}

function agentmeshOption <T> (codec: OptionCodec<T>, value: T): RawOption {
  return { optionClass: AGENTMESH_OPTION_CLASS, type: codec.type, data: codec.encode(value) }
}

function checkPayloadProtocolType (protocolType: number): void {
  if (!isRegistered(ProtocolType, protocolType) || protocolType === ProtocolType.NONE) {
    throw new UnknownProtocolTypeError(`protocol type ${hex(protocolType, 4)} names no payload in the registry`)
  }
}

function checkRawOption (option: RawOption): void {
  if (!isUint(option.optionClass, 0xffff) || !isUint(option.type, 0xff)) {
    throw new MalformedOptionError(`option class ${option.optionClass} type ${option.type} do not fit 16 and 8 bits`)
  }
  if (option.data.length % WORD_BYTES !== 0 || option.data.length > MAX_OPTION_DATA_BYTES) {
    throw new MalformedOptionError(`option ${describeOption(option)}: ${option.data.length} bytes of data is not a whole number of words up to ${MAX_OPTION_DATA_BYTES}`)
  }
}
