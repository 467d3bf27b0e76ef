import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as envelope from '../../protocols/envelope/index.ts'
import {
  AGENTMESH_OPTION_CLASS, encodeEnvelope, encodeRequest, encodeResponse, EnvelopeError, MAX_REASON_BYTES,
  MAX_TRUST_TOKEN_BYTES, ProtocolType, requestDecoder, responseDecoder, Status,
  UnsupportedCriticalOptionError
} from '../../protocols/envelope/index.ts'
import type { RequestInit, ResponseInit } from '../../protocols/envelope/index.ts'
import { REQUEST_EXAMPLE, specExample, specViolations } from './helpers.ts'

const minimalRequest: RequestInit = { service: 'web', vni: 1, protocolType: ProtocolType.HTTP1 }

function assertThrowsNamed (fn: () => unknown, name: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EnvelopeError, String(err))
    assert.equal(err.name, name, err.message)
    return true
  })
}

describe('error classes', () => {
  const errorClasses = Object.entries(envelope).filter(
    ([name, value]) => typeof value === 'function' && value.prototype instanceof EnvelopeError && name !== 'EnvelopeError'
  ) as Array<[string, new (message: string) => EnvelopeError]>

  it('each SPEC.md violation has its class, answering with the status the SPEC gives', () => {
    const violations = specViolations()
    assert.ok(violations.size >= 10, 'the violation table was not found in SPEC.md')
    for (const [name, status] of violations) {
      const ErrorClass = errorClasses.find(([exported]) => exported === name)?.[1]
      assert.ok(ErrorClass !== undefined, `no exported error class ${name}`)
      const err = name === 'UnsupportedCriticalOptionError'
        ? new UnsupportedCriticalOptionError({ optionClass: 1, type: 0x80 })
        : new ErrorClass('x')
      assert.equal(err.status, Status[status as keyof typeof Status], name)
    }
  })

  it('each class sets its own name', () => {
    for (const [exported, ErrorClass] of errorClasses) {
      const err = exported === 'UnsupportedCriticalOptionError'
        ? new UnsupportedCriticalOptionError({ optionClass: 1, type: 0x80 })
        : new ErrorClass('x')
      assert.equal(err.name, exported)
      assert.ok(err instanceof Error)
    }
  })

  it('UnsupportedCriticalOptionError names the option, ready for the response', () => {
    const err = new UnsupportedCriticalOptionError({ optionClass: 0x0101, type: 0x80 })
    assert.equal(err.message, 'unsupported critical option class 0x0101 type 0x80')
    const response = responseDecoder().push(encodeResponse({
      status: Status.UNSUPPORTED_CRITICAL_OPTION, vni: 0, reason: err.message, unsupportedOption: err.option
    }))
    assert.ok(response.done)
    assert.deepEqual(response.envelope, {
      status: Status.UNSUPPORTED_CRITICAL_OPTION, vni: 0, reason: err.message, unsupportedOption: err.option, skippedOptions: []
    })
  })
})

describe('decoder', () => {
  it('refuses a wrong version on the first byte, without waiting for the rest', () => {
    assertThrowsNamed(() => requestDecoder().push(Uint8Array.of(0x40)), 'UnsupportedVersionError')
  })

  it('end() after nothing, or after a whole envelope, is a clean end of stream', () => {
    requestDecoder().end()
    const decoder = requestDecoder()
    assert.ok(decoder.push(encodeRequest(minimalRequest)).done)
    decoder.end()
  })

  it('end() inside an envelope is TruncatedEnvelopeError', () => {
    const decoder = requestDecoder()
    assert.equal(decoder.push(encodeRequest(minimalRequest).subarray(0, 9)).done, false)
    assertThrowsNamed(() => decoder.end(), 'TruncatedEnvelopeError')
  })

  it('the request decoder refuses a response and the response decoder a request', () => {
    assertThrowsNamed(() => requestDecoder().push(specExample('response-ok')), 'UnexpectedOptionError')
    assertThrowsNamed(() => responseDecoder().push(specExample('request')), 'UnexpectedOptionError')
  })

  it('skips unknown non-critical options, keeps them in order as copies, and ignores reserved bits', () => {
    const skipped = [
      { optionClass: 0x0101, type: 0x01, data: Uint8Array.of(1, 2, 3, 4) },
      { optionClass: AGENTMESH_OPTION_CLASS, type: 0x7f, data: new Uint8Array(0) }
    ]
    const service = encodeRequest(minimalRequest).subarray(8)
    const bytes = encodeEnvelope({ oam: false, protocolType: ProtocolType.HTTP1, vni: 1 }, [
      skipped[0],
      { optionClass: AGENTMESH_OPTION_CLASS, type: 0x81, data: service.subarray(4) },
      skipped[1]
    ])
    bytes[1] |= 0x3f // Rsvd. bits
    bytes[7] = 0xff // Reserved byte
    bytes[8 + 3] |= 0xe0 // R bits of the first option
    const result = requestDecoder().push(bytes)
    assert.ok(result.done)
    assert.deepEqual(result.envelope, { ...minimalRequest, skippedOptions: skipped })
    assert.notEqual(result.envelope.skippedOptions[0].data.buffer, bytes.buffer)
  })
})

describe('encoder', () => {
  it('writes what its own decoder reads back for the largest request that fits', () => {
    const largest: RequestInit = {
      ...REQUEST_EXAMPLE,
      service: 's'.repeat(64),
      trustToken: new Uint8Array(MAX_TRUST_TOKEN_BYTES).fill(7),
      metadata: undefined
    }
    delete largest.metadata
    const bytes = encodeRequest(largest)
    assert.equal(bytes.length, 8 + 248)
    const result = requestDecoder().push(bytes)
    assert.ok(result.done)
    assert.deepEqual(result.envelope, { ...largest, skippedOptions: [] })
  })

  it('refuses options over the 252-byte budget', () => {
    assertThrowsNamed(() => encodeRequest({
      ...REQUEST_EXAMPLE,
      service: 's'.repeat(64),
      trustToken: new Uint8Array(MAX_TRUST_TOKEN_BYTES)
    }), 'OptionBudgetExceededError')
  })

  const badRequests: Array<[string, Record<string, unknown>, string]> = [
    ['an empty service name', { service: '' }, 'MalformedOptionError'],
    ['a service name with a space', { service: 'my service' }, 'MalformedOptionError'],
    ['a 65-byte service name', { service: 's'.repeat(65) }, 'MalformedOptionError'],
    ['a VNI over 24 bits', { vni: 0x100_0000 }, 'InvalidHeaderFieldError'],
    ['a negative VNI', { vni: -1 }, 'InvalidHeaderFieldError'],
    ['protocol type NONE', { protocolType: ProtocolType.NONE }, 'UnknownProtocolTypeError'],
    ['an unregistered protocol type', { protocolType: 0x0800 }, 'UnknownProtocolTypeError'],
    ['an upper-case trace id', { trace: { traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', spanId: '00f067aa0ba902b7', traceFlags: 1 } }, 'MalformedOptionError'],
    ['an all-zero span id', { trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '0000000000000000', traceFlags: 1 } }, 'MalformedOptionError'],
    ['trace flags over a byte', { trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 256 } }, 'MalformedOptionError'],
    ['an empty trust token', { trustToken: new Uint8Array(0) }, 'MalformedOptionError'],
    ['a trust token over its cap', { trustToken: new Uint8Array(MAX_TRUST_TOKEN_BYTES + 1) }, 'MalformedOptionError'],
    ['a deadline of 0', { deadline: 0 }, 'MalformedOptionError'],
    ['a fractional deadline', { deadline: 1.5 }, 'MalformedOptionError'],
    ['a deadline over 32 bits', { deadline: 2 ** 32 }, 'MalformedOptionError'],
    ['an unknown routing policy', { routing: 3 }, 'MalformedOptionError'],
    ['an upper-case metadata key', { metadata: { Agent: 'x' } }, 'MalformedOptionError'],
    ['a metadata value over its cap', { metadata: { agent: 'x'.repeat(91) } }, 'MalformedOptionError'],
    ['a metadata value with a lone surrogate', { metadata: { agent: '\ud800' } }, 'MalformedOptionError']
  ]
  for (const [what, fields, name] of badRequests) {
    it(`refuses a request with ${what}: ${name}`, () => {
      assertThrowsNamed(() => encodeRequest({ ...minimalRequest, ...fields } as RequestInit), name)
    })
  }

  it('refuses an UNSUPPORTED_CRITICAL_OPTION response that names no option, and an OK one that does', () => {
    assertThrowsNamed(() => encodeResponse({ status: Status.UNSUPPORTED_CRITICAL_OPTION, vni: 0 } as ResponseInit), 'MalformedOptionError')
    assertThrowsNamed(() => encodeResponse({
      status: Status.OK, vni: 0, protocolType: ProtocolType.TCP, unsupportedOption: { optionClass: 1, type: 0x80 }
    } as ResponseInit), 'MalformedOptionError')
  })

  it('refuses an OK response without a payload protocol type, and an unknown status', () => {
    assertThrowsNamed(() => encodeResponse({ status: Status.OK, vni: 0 } as ResponseInit), 'UnknownProtocolTypeError')
    assertThrowsNamed(() => encodeResponse({ status: 8, vni: 0 } as unknown as ResponseInit), 'MalformedOptionError')
  })

  it('refuses raw options whose data is not whole words, or longer than 31 words', () => {
    const header = { oam: false, protocolType: ProtocolType.TCP, vni: 0 }
    assertThrowsNamed(() => encodeEnvelope(header, [{ optionClass: 1, type: 1, data: new Uint8Array(3) }]), 'MalformedOptionError')
    assertThrowsNamed(() => encodeEnvelope(header, [{ optionClass: 1, type: 1, data: new Uint8Array(128) }]), 'MalformedOptionError')
    assertThrowsNamed(() => encodeEnvelope(header, [{ optionClass: 0x10000, type: 1, data: new Uint8Array(0) }]), 'MalformedOptionError')
  })

  it('cuts a long reason at a character boundary, and mends lone surrogates, so an answer is always sent', () => {
    const reason = 'é'.repeat(MAX_REASON_BYTES) // 2 bytes each: the cut falls inside a character
    for (const [sent, received] of [[reason, 'é'.repeat(Math.floor(MAX_REASON_BYTES / 2))], ['bad \ud800', 'bad \ufffd']]) {
      const result = responseDecoder().push(encodeResponse({ status: Status.DENIED, vni: 3, reason: sent }))
      assert.ok(result.done)
      assert.equal(result.envelope.reason, received)
    }
  })

  it('puts an error response in O-bit form with protocol type NONE', () => {
    const bytes = encodeResponse({ status: Status.WRONG_NETWORK, vni: 9, reason: 'not a member' })
    assert.equal(bytes[1] & 0xc0, 0xc0) // O and C
    assert.equal((bytes[2] << 8) | bytes[3], ProtocolType.NONE)
  })
})
