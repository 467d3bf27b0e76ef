/**
 * @packageDocumentation
 *
 * The agentmesh envelope: a Geneve-style (RFC 8926) header with TLV options
 * that opens every tunnelled stream, and the response that answers it.
 * Codec only, no I/O. SPEC.md beside this file is the normative text.
 *
 * @example
 *
 * ```ts
 * // requester
 * stream.send(encodeRequest({ service: 'ssh', vni: 7, protocolType: ProtocolType.SSH }))
 *
 * // responder, for each chunk read from the stream (within HEADER_TIMEOUT_MS)
 * const result = decoder.push(chunk) // decoder = requestDecoder()
 * if (result.done) { result.envelope.service; result.rest }
 * ```
 */

export {
  AGENTMESH_OPTION_CLASS, HEADER_TIMEOUT_MS, MAX_ENVELOPE_BYTES, MAX_METADATA_KEY_BYTES,
  MAX_METADATA_VALUE_BYTES, MAX_OPTIONS_BYTES, MAX_REASON_BYTES, MAX_SERVICE_NAME_BYTES,
  MAX_TRUST_TOKEN_BYTES, MAX_VNI, METADATA_KEY_PATTERN, OptionType, ProtocolType, RoutingHint,
  SERVICE_NAME_PATTERN, Status, statusName
} from './constants.ts'
export { encodeEnvelope, encodeRequest, encodeResponse } from './encode.ts'
export { EnvelopeDecoder, requestDecoder, responseDecoder } from './decode.ts'
export type { DecodeResult } from './decode.ts'
export {
  ControlFlagMismatchError, CriticalFlagMismatchError, DuplicateOptionError, EnvelopeError, HeaderTimeoutError,
  InvalidHeaderFieldError, MalformedOptionError, MissingOptionError, OptionBudgetExceededError, OptionOverrunError,
  TruncatedEnvelopeError, UnexpectedOptionError, UnknownProtocolTypeError, UnsupportedCriticalOptionError,
  UnsupportedVersionError
} from './errors.ts'
export type * from './types.ts'
