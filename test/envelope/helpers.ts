import { concatBytes, parseHexDump } from '../helpers/spec-corpus.ts'
import { readFileSync } from 'node:fs'
import type { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolType, RoutingHint, Status } from '../../protocols/envelope/index.ts'
import type { EnvelopeDecoder, RequestEnvelope, ResponseEnvelope } from '../../protocols/envelope/index.ts'

export { concatBytes, parseHexDump } from '../helpers/spec-corpus.ts'

/** The worked examples of SPEC.md, by name, read from its ```hex example=NAME blocks. */
export function specExamples (): Map<string, Uint8Array> {
  const examples = new Map<string, Uint8Array>()
  for (const [, name, dump] of readSpec().matchAll(/^```hex example=(\S+)\n([\s\S]*?)^```$/gm)) {
    examples.set(name, parseHexDump(dump))
  }
  return examples
}

function readSpec (): string {
  return readFileSync(new URL('../../protocols/envelope/SPEC.md', import.meta.url), 'utf8')
}

/** The violation table of SPEC.md section 6: error name -> status name. */
export function specViolations (): Map<string, string> {
  const violations = new Map<string, string>()
  for (const [, name, status] of readSpec().matchAll(/^\| \d+ \| .* \| `(\w+)` \| (\w+) \|$/gm)) {
    violations.set(name, status)
  }
  return violations
}

export function specExample (name: string): Uint8Array {
  const bytes = specExamples().get(name)
  if (bytes === undefined) {
    throw new Error(`SPEC.md has no example ${name}`)
  }
  return bytes
}

/** What SPEC.md section 7 says each example holds. */
export const REQUEST_EXAMPLE: RequestEnvelope = {
  service: 'ssh',
  vni: 42,
  protocolType: ProtocolType.SSH,
  trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 },
  trustToken: parseHexDump('a1b2c3d4e5f60718293a4b5c'),
  deadline: 30_000,
  routing: RoutingHint.RELAY_ALLOWED,
  metadata: { agent: 'planner' },
  skippedOptions: []
}

export const RESPONSE_OK_EXAMPLE: ResponseEnvelope = {
  status: Status.OK,
  reason: '',
  vni: 42,
  protocolType: ProtocolType.SSH,
  skippedOptions: []
}

export const RESPONSE_UNSUPPORTED_EXAMPLE: ResponseEnvelope = {
  status: Status.UNSUPPORTED_CRITICAL_OPTION,
  reason: 'not supported',
  vni: 42,
  unsupportedOption: { optionClass: 0xfffa, type: 0xc0 },
  skippedOptions: []
}

/**
 * Pushes chunks until the decoder returns an envelope. `after` is what
 * followed it: the decoder's `rest` and the chunks not pushed.
 */
export function feed <E> (decoder: EnvelopeDecoder<E>, chunks: ReadonlyArray<Uint8Array | Uint8ArrayList>): { envelope?: E, after: Uint8Array } {
  for (const [index, chunk] of chunks.entries()) {
    const result = decoder.push(chunk)
    if (result.done) {
      return { envelope: result.envelope, after: concatBytes(result.rest.subarray(), ...chunks.slice(index + 1).map((rest) => rest.subarray())) }
    }
  }
  return { after: new Uint8Array(0) }
}

/** `bytes` cut at the given offsets (sorted, deduplicated, clamped). */
export function splitAt (bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((offset) => Math.min(offset, bytes.length)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let start = 0
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(start, cut))
    start = cut
  }
  return chunks
}
