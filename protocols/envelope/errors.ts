import { Status } from './constants.ts'
import type { OptionId } from './types.ts'

/**
 * The base of every envelope error: `status` is the code a responder answers
 * with when a request fails this way (SPEC.md, "Limits and violations").
 * Only its subclasses are thrown; tell them apart by `name`.
 */
export class EnvelopeError extends Error {
  readonly status: Status = Status.BAD_ENVELOPE
}

/** The version bits are not 0: nothing after the first byte can be read. */
export class UnsupportedVersionError extends EnvelopeError {
  override name = 'UnsupportedVersionError'
}

/** The Protocol Type is not in the registry. */
export class UnknownProtocolTypeError extends EnvelopeError {
  override name = 'UnknownProtocolTypeError'
}

/** An option's Length runs past the end of the options (Opt Len). */
export class OptionOverrunError extends EnvelopeError {
  override name = 'OptionOverrunError'
}

/** The C bit is set without a critical option, or clear with one. */
export class CriticalFlagMismatchError extends EnvelopeError {
  override name = 'CriticalFlagMismatchError'
}

/**
 * The O bit or the Protocol Type disagrees with the envelope: both say "no
 * payload follows" (O set, protocol type NONE) exactly for error responses.
 */
export class ControlFlagMismatchError extends EnvelopeError {
  override name = 'ControlFlagMismatchError'
}

/** A critical option this implementation does not know: the stream is refused, naming it. */
export class UnsupportedCriticalOptionError extends EnvelopeError {
  override name = 'UnsupportedCriticalOptionError'
  override readonly status: Status = Status.UNSUPPORTED_CRITICAL_OPTION
  readonly option: OptionId

  constructor (option: OptionId) {
    super(`unsupported critical option ${describeOption(option)}`)
    this.option = option
  }
}

/** A known agentmesh option that belongs to the other kind of envelope (e.g. a status in a request). */
export class UnexpectedOptionError extends EnvelopeError {
  override name = 'UnexpectedOptionError'
}

/** A known option whose data breaks its layout: wrong length, bad value, over its cap. */
export class MalformedOptionError extends EnvelopeError {
  override name = 'MalformedOptionError'
}

/** A single-valued option appears twice, or two metadata options share a key. */
export class DuplicateOptionError extends EnvelopeError {
  override name = 'DuplicateOptionError'
}

/** A request without its service option, or a response without its status option. */
export class MissingOptionError extends EnvelopeError {
  override name = 'MissingOptionError'
}

/** The stream ended in the middle of an envelope. */
export class TruncatedEnvelopeError extends EnvelopeError {
  override name = 'TruncatedEnvelopeError'
}

/** The whole request envelope did not arrive within HEADER_TIMEOUT_MS (raised by the tunnel handler). */
export class HeaderTimeoutError extends EnvelopeError {
  override name = 'HeaderTimeoutError'
}

/** Encoding only: the options would exceed the 252-byte budget of Opt Len. */
export class OptionBudgetExceededError extends EnvelopeError {
  override name = 'OptionBudgetExceededError'
}

/** Encoding only: a VNI or Protocol Type that does not fit its field. */
export class InvalidHeaderFieldError extends EnvelopeError {
  override name = 'InvalidHeaderFieldError'
}

/** "0x00FF", for error messages; anything but an integer as it is. */
export function hex (value: number, digits: number): string {
  return Number.isInteger(value) ? `0x${value.toString(16).toUpperCase().padStart(digits, '0')}` : String(value)
}

/** "class 0xFFFA type 0x81", for error messages. */
export function describeOption ({ optionClass, type }: OptionId): string {
  return `class ${hex(optionClass, 4)} type ${hex(type, 2)}`
}
