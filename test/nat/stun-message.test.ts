import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import {
  AttributeType, decodeXorMappedAddress, encodeBindingSuccess, encodeUnknownAttributeError, InvalidMappedAddressError,
  MAX_DATAGRAM_BYTES, MessageType, parseBindingRequest, readMessage
} from '../../src/nat/stun/index.ts'
import { ERROR_420, hex, RFC5769_REQUEST, toHex, TRANSACTION_ID } from './vectors.ts'
import type { StunMessage } from '../../src/nat/stun/index.ts'

// RFC 5769 section 2.2: 192.0.2.1 port 32853
const RFC5769_IPV4_RESPONSE = hex(`
  01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 08  00 01 a1 47  e1 12 a6 43
  00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
  80 28 00 04  c0 7d 4c 96`)
// section 2.3: 2001:db8:1234:5678:11:2233:4455:6677 port 32853
const RFC5769_IPV6_RESPONSE = hex(`
  01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
  00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
  80 28 00 04  c8 fb 0b 4c`)

// our own answers for that transaction id; Wireshark's STUN dissector reads each of them back
// with the same fields and "CRC-32 Status: Good"
const SUCCESS_IPV4 = hex(`
  01 01 00 24  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  00 20 00 08  00 01 a1 47  e1 12 a6 43
  80 22 00 09  61 67 65 6e  74 6d 65 73  68 00 00 00
  80 28 00 04  82 6c 69 fc`)
const SUCCESS_IPV6 = hex(`
  01 01 00 30  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
  80 22 00 09  61 67 65 6e  74 6d 65 73  68 00 00 00
  80 28 00 04  d1 b4 5b bf`)

/** A request built independently of the code under test: header, attributes, FINGERPRINT if asked. */
function request (
  attributes: Array<[type: number, value: Uint8Array]>,
  { type = MessageType.BINDING_REQUEST, fingerprint = true }: { type?: number, fingerprint?: boolean } = {}
): Uint8Array {
  const parts = attributes.map(([attributeType, value]) => {
    const part = new Uint8Array(4 + Math.ceil(value.length / 4) * 4)
    new DataView(part.buffer).setUint32(0, (attributeType << 16 | value.length) >>> 0)
    part.set(value, 4)
    return part
  })
  const length = parts.reduce((sum, part) => sum + part.length, fingerprint ? 8 : 0)
  const message = new Uint8Array(20 + length)
  const view = new DataView(message.buffer)
  view.setUint16(0, type)
  view.setUint16(2, length)
  view.setUint32(4, 0x2112a442)
  message.set(TRANSACTION_ID, 8)
  let offset = 20
  for (const part of parts) {
    message.set(part, offset)
    offset += part.length
  }
  if (fingerprint) {
    view.setUint32(offset, 0x80280004)
    view.setUint32(offset + 4, (crc32(message.subarray(0, offset)) ^ 0x5354554e) >>> 0)
  }
  return message
}

/** The attribute of `type` as it sits on the wire: header, value and padding. */
function rawAttribute (message: Uint8Array, type: number): string {
  for (let offset = 20; offset < message.length;) {
    const length = Math.ceil(((message[offset + 2] << 8) | message[offset + 3]) / 4) * 4
    if (((message[offset] << 8) | message[offset + 1]) === type) return toHex(message.subarray(offset, offset + 4 + length))
    offset += 4 + length
  }
  assert.fail(`no attribute 0x${type.toString(16)}`)
}

function assertMessage (result: ReturnType<typeof readMessage>): asserts result is StunMessage {
  assert.equal(result.kind, 'message', result.kind === 'ignore' ? result.reason : '')
}

/** CRC-32 of everything before the FINGERPRINT attribute, computed here, not by the code under test. */
function assertFingerprint (message: Uint8Array): void {
  const expected = (crc32(message.subarray(0, message.length - 8)) ^ 0x5354554e) >>> 0
  assert.equal(toHex(message.subarray(-8, -4)), '80280004')
  assert.equal(new DataView(message.buffer, message.byteOffset).getUint32(message.length - 4), expected)
}

function assertIgnored (datagram: Uint8Array, reason: RegExp): void {
  const result = parseBindingRequest(datagram)
  assert.equal(result.kind, 'ignore')
  assert.match(result.kind === 'ignore' ? result.reason : '', reason)
}

/** Canonical text of an IP address, IPv4-mapped IPv6 as IPv4, by the URL parser rather than our code. */
function canonical (address: string): string {
  if (!address.includes(':')) return address
  const host = new URL(`http://[${address}]/`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host)
  if (mapped === null) return host
  const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)]
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
}

describe('RFC 5769 test vectors', () => {
  it('2.1: the sample request is a binding request whose PRIORITY is unknown and comprehension-required', () => {
    const message = readMessage(RFC5769_REQUEST)
    assertMessage(message)
    assert.deepEqual(message.attributes.map(({ type }) => type), [0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028])
    // USERNAME and MESSAGE-INTEGRITY are known and ignored (no credentials); ICE-CONTROLLED is optional
    assert.deepEqual(parseBindingRequest(RFC5769_REQUEST), { kind: 'binding', transactionId: TRANSACTION_ID, unknownRequired: [0x0024] })
  })

  it('2.2 and 2.3: we encode the vectors\' XOR-MAPPED-ADDRESS bytes, and read them back', () => {
    for (const [vector, address] of [[RFC5769_IPV4_RESPONSE, '192.0.2.1'], [RFC5769_IPV6_RESPONSE, '2001:db8:1234:5678:11:2233:4455:6677']] as const) {
      const ours = encodeBindingSuccess(TRANSACTION_ID, { address, port: 32853 })
      assert.equal(rawAttribute(ours, AttributeType.XOR_MAPPED_ADDRESS), rawAttribute(vector, AttributeType.XOR_MAPPED_ADDRESS))
      const theirs = readMessage(vector)
      assertMessage(theirs) // their FINGERPRINT verifies
      assert.equal(theirs.type, MessageType.BINDING_SUCCESS)
      const attribute = theirs.attributes.find(({ type }) => type === AttributeType.XOR_MAPPED_ADDRESS)
      assert.deepEqual(decodeXorMappedAddress(attribute?.value ?? new Uint8Array(), theirs.transactionId), { address, port: 32853 })
    }
  })
})

describe('our responses', () => {
  it('Binding success, IPv4', () => {
    const response = encodeBindingSuccess(TRANSACTION_ID, { address: '192.0.2.1', port: 32853 })
    assert.equal(toHex(response), toHex(SUCCESS_IPV4))
    assertFingerprint(response)
  })

  it('Binding success, IPv6', () => {
    const response = encodeBindingSuccess(TRANSACTION_ID, { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 })
    assert.equal(toHex(response), toHex(SUCCESS_IPV6))
    assertFingerprint(response)
  })

  it('420 Unknown Attribute for the RFC 5769 request', () => {
    const parsed = parseBindingRequest(RFC5769_REQUEST)
    assert.equal(parsed.kind, 'binding')
    const response = encodeUnknownAttributeError(TRANSACTION_ID, parsed.kind === 'binding' ? parsed.unknownRequired : [])
    assert.equal(toHex(response), toHex(ERROR_420))
    assertFingerprint(response)
  })

  it('an IPv4-mapped IPv6 sender is answered as IPv4; a zone id is dropped', () => {
    assert.equal(toHex(encodeBindingSuccess(TRANSACTION_ID, { address: '::ffff:192.0.2.1', port: 32853 })), toHex(SUCCESS_IPV4))
    const linkLocal = readMessage(encodeBindingSuccess(TRANSACTION_ID, { address: 'fe80::1%lo', port: 1 }))
    assertMessage(linkLocal)
    assert.deepEqual(decodeXorMappedAddress(linkLocal.attributes[0].value, TRANSACTION_ID), { address: 'fe80:0:0:0:0:0:0:1', port: 1 })
  })

  it('refuses to map what is not an IP address and a port', () => {
    for (const mapped of [{ address: 'localhost', port: 1 }, { address: '1.2.3.4', port: 65536 }, { address: '::1', port: -1 }, { address: '1.2.3.4', port: 1.5 }]) {
      assert.throws(() => encodeBindingSuccess(TRANSACTION_ID, mapped), { name: 'InvalidMappedAddressError' })
      assert.throws(() => encodeBindingSuccess(TRANSACTION_ID, mapped), InvalidMappedAddressError)
    }
  })
})

describe('what a binding request is', () => {
  it('a bare header, with or without FINGERPRINT', () => {
    for (const fingerprint of [false, true]) {
      assert.deepEqual(parseBindingRequest(request([], { fingerprint })), { kind: 'binding', transactionId: TRANSACTION_ID, unknownRequired: [] })
    }
  })

  it('lists each unknown comprehension-required attribute once, and no optional one', () => {
    const four = new Uint8Array(4)
    const parsed = parseBindingRequest(request([[0x0024, four], [0x7fff, four], [0x0024, four], [0x8029, four], [0xc001, four]]))
    assert.deepEqual(parsed, { kind: 'binding', transactionId: TRANSACTION_ID, unknownRequired: [0x0024, 0x7fff] })
  })

  it('ignores whatever follows MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 (RFC 8489 sections 14.5, 14.6)', () => {
    for (const integrity of [AttributeType.MESSAGE_INTEGRITY, AttributeType.MESSAGE_INTEGRITY_SHA256]) {
      const parsed = parseBindingRequest(request([[AttributeType.USERNAME, hex('61')], [integrity, new Uint8Array(20)], [0x0024, new Uint8Array(4)]]))
      assert.deepEqual(parsed, { kind: 'binding', transactionId: TRANSACTION_ID, unknownRequired: [] })
    }
  })
})

describe('what is silently discarded', () => {
  it('the RFC 5769 request cut at every length', () => {
    for (let length = 0; length < RFC5769_REQUEST.length; length++) {
      assertIgnored(RFC5769_REQUEST.subarray(0, length), /shorter than a STUN header|length disagrees/)
    }
  })

  it('a wrong magic cookie (RFC 3489 clients among others)', () => {
    const bad = request([])
    bad[7] ^= 1
    assertIgnored(bad, /no magic cookie/)
  })

  it('a message length that is not a multiple of 4, or not the datagram\'s', () => {
    const padded = new Uint8Array([...request([], { fingerprint: false }), 0, 0, 0, 0])
    for (const length of [1, 2, 3, 8]) {
      padded[3] = length
      assertIgnored(padded, length === 8 ? /disagrees/ : /multiple of 4/)
    }
  })

  it('other messages: responses, indications, and the two leading bits set', () => {
    for (const type of [MessageType.BINDING_SUCCESS, MessageType.BINDING_ERROR, 0x0011, 0x0003]) {
      assertIgnored(request([], { type }), /is not a Binding request/)
    }
    for (const type of [0x4001, 0x8001, 0xc001]) assertIgnored(request([], { type }), /leading bits/)
  })

  it('a FINGERPRINT that does not match, or has the wrong length', () => {
    const flipped = RFC5769_REQUEST.slice()
    flipped[flipped.length - 1] ^= 0x80
    assertIgnored(flipped, /FINGERPRINT does not match/)
    const tampered = RFC5769_REQUEST.slice()
    tampered[24] ^= 1 // inside SOFTWARE
    assertIgnored(tampered, /FINGERPRINT does not match/)
    const long = request([[AttributeType.FINGERPRINT, new Uint8Array(8)]], { fingerprint: false })
    assertIgnored(long, /FINGERPRINT does not match/)
  })

  it('an attribute after FINGERPRINT', () => {
    const after = request([[AttributeType.FINGERPRINT, new Uint8Array(4)], [AttributeType.SOFTWARE, hex('61')]], { fingerprint: false })
    assertIgnored(after, /FINGERPRINT is not the last attribute/)
  })

  it('an attribute longer than the message', () => {
    const overrun = request([[AttributeType.SOFTWARE, hex('61626364')]], { fingerprint: false })
    overrun[23] = 5
    assertIgnored(overrun, /overruns the message/)
  })

  it(`a datagram longer than ${MAX_DATAGRAM_BYTES} bytes, however well formed`, () => {
    const fits = request([[AttributeType.SOFTWARE, new Uint8Array(MAX_DATAGRAM_BYTES - 32)]])
    assert.equal(fits.length, MAX_DATAGRAM_BYTES)
    assert.equal(parseBindingRequest(fits).kind, 'binding')
    assertIgnored(request([[AttributeType.SOFTWARE, new Uint8Array(MAX_DATAGRAM_BYTES - 28)]]), /longer than/)
  })
})

describe('properties', () => {
  const numRuns = 10_000
  const transactionId = fc.uint8Array({ minLength: 12, maxLength: 12 })

  it('arbitrary bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1400 }), bytes => {
      assert.ok(['binding', 'ignore'].includes(parseBindingRequest(bytes).kind))
    }), { numRuns })
  })

  it('arbitrary attributes behind a valid header never throw', () => {
    // the header checks reject nearly all random bytes; this reaches the attribute walk every time
    const body = fc.uint8Array({ maxLength: 400 }).map(bytes => bytes.subarray(0, bytes.length - bytes.length % 4))
    fc.assert(fc.property(body, bytes => {
      const datagram = request([], { fingerprint: false })
      const whole = new Uint8Array([...datagram, ...bytes])
      new DataView(whole.buffer).setUint16(2, bytes.length)
      assert.ok(['binding', 'ignore'].includes(parseBindingRequest(whole).kind))
    }), { numRuns })
  })

  it('round trip: any transaction id, IPv4 or IPv6 address and port', () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6())
    fc.assert(fc.property(transactionId, address, fc.integer({ min: 0, max: 0xffff }), (id, ip, port) => {
      const message = readMessage(encodeBindingSuccess(id, { address: ip, port }))
      assertMessage(message)
      assert.equal(message.type, MessageType.BINDING_SUCCESS)
      assert.deepEqual(message.transactionId, id)
      assert.deepEqual(message.attributes.map(({ type }) => type), [AttributeType.XOR_MAPPED_ADDRESS, AttributeType.SOFTWARE, AttributeType.FINGERPRINT])
      const decoded = decodeXorMappedAddress(message.attributes[0].value, id)
      assert.deepEqual(decoded && { address: canonical(decoded.address), port: decoded.port }, { address: canonical(ip), port })
    }), { numRuns })
  })

  it('round trip: any set of unknown comprehension-required attributes comes back in the 420', () => {
    const unknownType = fc.integer({ min: 0x0100, max: 0x7fff })
    fc.assert(fc.property(transactionId, fc.uniqueArray(unknownType, { minLength: 1, maxLength: 20 }), (id, types) => {
      const parsed = parseBindingRequest(request(types.map(type => [type, new Uint8Array(type % 7)])))
      assert.equal(parsed.kind, 'binding')
      assert.deepEqual(parsed.kind === 'binding' && parsed.unknownRequired, types)
      const message = readMessage(encodeUnknownAttributeError(id, types))
      assertMessage(message)
      assert.equal(message.type, MessageType.BINDING_ERROR)
      const listed = message.attributes.find(({ type }) => type === AttributeType.UNKNOWN_ATTRIBUTES)?.value ?? new Uint8Array()
      assert.deepEqual(Array.from({ length: listed.length / 2 }, (_, i) => (listed[2 * i] << 8) | listed[2 * i + 1]), types)
    }), { numRuns: 1000 })
  })
})
