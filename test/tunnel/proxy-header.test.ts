/**
 * The PROXY protocol v2 header of `--proxy-protocol` services and the virtual
 * addresses in it: the SPEC's worked example byte for byte, round trips,
 * typed errors for bad input, and a real nginx reading what the encoder
 * writes over a raw TCP socket.
 */

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect, isIPv6 } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import {
  decodeProxyHeader, encodeProxyHeader, MAX_PROXY_HEADER_BYTES, PROXY_V2_SIGNATURE, ProxyHeaderError, proxySourcePort, ProxyTlv
} from '../../protocols/tunnel/proxy-header.ts'
import type { ProxyHeaderInit } from '../../protocols/tunnel/proxy-header.ts'
import { formatIpv6, virtualIpv6, virtualIpv6Bytes, virtualIpv6Prefix } from '../../protocols/tunnel/virtual-address.ts'
import { parseHexDump } from '../helpers/spec-corpus.ts'
import { waitFor } from '../helpers/daemon.ts'
import { NGINX_BODY, nginxMissing, startNginx } from '../helpers/services/nginx.ts'
import type { Nginx, NginxAccess } from '../helpers/services/nginx.ts'
import type { PeerId } from '@libp2p/interface'

const numRuns = 2_000

/** The ```hex example=proxy-header block of the tunnel SPEC. */
function specExample (): Uint8Array {
  const match = /^```hex example=proxy-header\n([\s\S]*?)^```$/m.exec(readFileSync(new URL('../../protocols/tunnel/SPEC.md', import.meta.url), 'utf8'))
  if (match == null) throw new Error('no ```hex example=proxy-header block in protocols/tunnel/SPEC.md')
  return parseHexDump(match[1])
}

const NETWORK_KEY = new Uint8Array(32).fill(0x42)
const CALLER_ID = '12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7'
const CALLEE_ID = '12D3KooWB8sCGZCrwr79HtabLAn95qyPQx6RYHXjEbiD6QKou7ww'
const CALLER_ADDRESS = 'fd8e:3273:de6d:0:c37a:eeeb:da57:bc3b'
const CALLEE_ADDRESS = 'fd8e:3273:de6d:0:d10c:93a5:9df6:bcc0'
const CALLER_ALLOWLIST_ADDRESS = 'fd26:8103:32e8:0:c37a:eeeb:da57:bc3b'

async function peerFromSeed (byte: number): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(byte)))
}

function assertThrowsNamed (fn: () => unknown, name: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProxyHeaderError, `${String(err)} is a ProxyHeaderError`)
    assert.equal(err.name, name, err.message)
    return true
  })
}

/** An IPv6 address as the WHATWG URL parser serializes it: an independent RFC 5952 formatter. */
function urlFormat (bytes: Uint8Array): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}

let caller: PeerId
let callee: PeerId
let example: ProxyHeaderInit

before(async () => {
  caller = await peerFromSeed(7)
  callee = await peerFromSeed(8)
  example = {
    source: virtualIpv6Bytes(NETWORK_KEY, caller),
    destination: virtualIpv6Bytes(NETWORK_KEY, callee),
    sourcePort: proxySourcePort(0),
    destinationPort: 8080,
    peerId: caller.toString(),
    name: 'alice',
    groups: ['ops', 'dev'],
    vni: 42
  }
})

describe('virtual addresses', () => {
  it('the worked example: the peers and their addresses', () => {
    assert.equal(caller.toString(), CALLER_ID)
    assert.equal(callee.toString(), CALLEE_ID)
    assert.equal(virtualIpv6(NETWORK_KEY, caller), CALLER_ADDRESS)
    assert.equal(virtualIpv6(NETWORK_KEY, callee), CALLEE_ADDRESS)
    assert.equal(virtualIpv6(undefined, caller), CALLER_ALLOWLIST_ADDRESS)
    assert.equal(virtualIpv6(new Uint8Array(32), caller), CALLER_ALLOWLIST_ADDRESS, 'the allowlist is the network of 32 zero bytes')
    assert.deepEqual(virtualIpv6Bytes(NETWORK_KEY, caller), Uint8Array.from(Buffer.from('fd8e3273de6d0000c37aeeebda57bc3b', 'hex')))
  })

  it('one /48 per network, one interface id per peer in every network', () => {
    assert.deepEqual(virtualIpv6Bytes(NETWORK_KEY, caller).subarray(0, 6), virtualIpv6Prefix(NETWORK_KEY))
    assert.deepEqual(virtualIpv6Bytes(NETWORK_KEY, callee).subarray(0, 6), virtualIpv6Prefix(NETWORK_KEY))
    assert.deepEqual(virtualIpv6Bytes(NETWORK_KEY, caller).subarray(8), virtualIpv6Bytes(undefined, caller).subarray(8))
    assert.notDeepEqual(virtualIpv6Prefix(NETWORK_KEY), virtualIpv6Prefix(undefined))
    for (const key of [undefined, NETWORK_KEY]) {
      const bytes = virtualIpv6Bytes(key, caller)
      assert.equal(bytes[0], 0xfd, 'in fd00::/8')
      assert.equal(bytes[6], 0, 'subnet 0')
      assert.equal(bytes[7], 0, 'subnet 0')
      assert.ok(isIPv6(virtualIpv6(key, caller)))
    }
  })

  it('the text form is RFC 5952, as the URL parser writes it', () => {
    const cases: Array<[string, string]> = [
      ['00000000000000000000000000000000', '::'],
      ['00000000000000000000000000000001', '::1'],
      ['fd000000000000000000000000000000', 'fd00::'],
      ['fd8e3273de6d0000c37aeeebda57bc3b', 'fd8e:3273:de6d:0:c37a:eeeb:da57:bc3b'],
      ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['fd000000000000010000000000000000', 'fd00:0:0:1::'],
      ['00010000000000010001000000000001', '1::1:1:0:0:1'],
      ['fd000000000100000000000000000000', 'fd00:0:1::']
    ]
    for (const [hex, text] of cases) assert.equal(formatIpv6(Buffer.from(hex, 'hex')), text, hex)
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }))
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), groups => {
      const bytes = new Uint8Array(16)
      groups.forEach((value, i) => { bytes[2 * i] = value >> 8; bytes[2 * i + 1] = value & 0xff })
      assert.equal(formatIpv6(bytes), urlFormat(bytes))
    }), { numRuns })
    assert.throws(() => formatIpv6(new Uint8Array(4)), RangeError)
  })
})

describe('the SPEC worked example', () => {
  it('encodes to the SPEC bytes', () => {
    const bytes = specExample()
    assert.equal(bytes.length, 131)
    assert.deepEqual(encodeProxyHeader(example), bytes)
  })

  it('decodes from the SPEC bytes, with the data behind it left alone', () => {
    const bytes = specExample()
    const data = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')
    const { header, length } = decodeProxyHeader(Uint8Array.from([...bytes, ...data]))
    assert.equal(length, bytes.length)
    assert.deepEqual(header, { ...example, otherTlvs: [] })
    assert.equal(formatIpv6(header.source), CALLER_ADDRESS)
    assert.equal(formatIpv6(header.destination), CALLEE_ADDRESS)
  })

  it('every prefix of the SPEC bytes is truncated, never anything else', () => {
    const bytes = specExample()
    for (let cut = 0; cut < bytes.length; cut++) assertThrowsNamed(() => decodeProxyHeader(bytes.subarray(0, cut)), 'TruncatedProxyHeaderError')
  })
})

// any code point, few enough that every header stays under MAX_PROXY_HEADER_BYTES (8 groups of 20 x 4 bytes)
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 })
const proxyInit: fc.Arbitrary<ProxyHeaderInit> = fc.record({
  source: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  destination: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  sourcePort: fc.integer({ min: 0, max: 0xffff }),
  destinationPort: fc.integer({ min: 0, max: 0xffff }),
  peerId: text,
  name: fc.option(text, { nil: undefined }),
  groups: fc.array(text.filter(group => !group.includes(',')), { maxLength: 8 }),
  vni: fc.integer({ min: 0, max: 0xffffff })
}, { requiredKeys: ['source', 'destination', 'sourcePort', 'destinationPort', 'peerId', 'groups', 'vni'] })

describe('round trip', () => {
  it('any valid header decodes to what was encoded, with the data behind it', () => {
    fc.assert(fc.property(proxyInit, fc.uint8Array({ maxLength: 32 }), (init, data) => {
      const bytes = encodeProxyHeader(init)
      assert.ok(bytes.length <= MAX_PROXY_HEADER_BYTES)
      const { header, length } = decodeProxyHeader(Uint8Array.from([...bytes, ...data]))
      assert.equal(length, bytes.length)
      const expected: Record<string, unknown> = { ...init, otherTlvs: [] }
      if (init.name == null) delete expected.name
      assert.deepEqual(header, expected)
    }), { numRuns })
  })

  it('TLVs of other types are skipped and returned, in order', () => {
    const bytes = encodeProxyHeader(example)
    const noop = Uint8Array.of(0x04, 0x00, 0x02, 0xaa, 0xbb) // PP2_TYPE_NOOP
    const custom = Uint8Array.of(0xef, 0x00, 0x00)
    const longer = Uint8Array.from([...bytes, ...noop, ...custom])
    new DataView(longer.buffer).setUint16(14, longer.length - 16)
    const { header, length } = decodeProxyHeader(longer)
    assert.equal(length, longer.length)
    assert.deepEqual(header.otherTlvs, [{ type: 0x04, value: Uint8Array.of(0xaa, 0xbb) }, { type: 0xef, value: new Uint8Array(0) }])
    assert.equal(header.peerId, CALLER_ID)
  })

  it('no name and no groups: no 0xE1 and no 0xE2 TLV', () => {
    const bytes = encodeProxyHeader({ ...example, name: undefined, groups: [] })
    assert.equal(bytes.length, 131 - 8 - 10)
    const { header } = decodeProxyHeader(bytes)
    assert.equal(header.name, undefined)
    assert.deepEqual(header.groups, [])
    assert.ok(!bytes.includes(ProxyTlv.NAME) && !bytes.includes(ProxyTlv.GROUPS))
    assert.deepEqual(encodeProxyHeader({ ...example, name: '', groups: [] }), bytes, 'an empty name is sent as none')
  })

  it('source ports count through the dynamic range', () => {
    assert.equal(proxySourcePort(0), 49152)
    assert.equal(proxySourcePort(1), 49153)
    assert.equal(proxySourcePort(16383), 65535)
    assert.equal(proxySourcePort(16384), 49152)
    assert.throws(() => proxySourcePort(-1), RangeError)
  })
})

describe('bad input gives typed errors', () => {
  const mutate = (change: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
    const bytes = encodeProxyHeader(example)
    change(bytes, new DataView(bytes.buffer))
    return bytes
  }

  it('decoding', () => {
    assertThrowsNamed(() => decodeProxyHeader(new TextEncoder().encode('PROXY TCP6 fd00::1 fd00::2 49152 8080\r\n')), 'BadProxySignatureError')
    assertThrowsNamed(() => decodeProxyHeader(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')), 'BadProxySignatureError')
    assertThrowsNamed(() => decodeProxyHeader(Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0b)), 'BadProxySignatureError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[11] = 0x0b })), 'BadProxySignatureError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[12] = 0x11 })), 'UnsupportedProxyVersionError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[12] = 0x31 })), 'UnsupportedProxyVersionError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[12] = 0x20 })), 'UnsupportedProxyCommandError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[13] = 0x11 })), 'UnsupportedProxyFamilyError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[13] = 0x22 })), 'UnsupportedProxyFamilyError')
    assertThrowsNamed(() => decodeProxyHeader(mutate((bytes, view) => { view.setUint16(14, bytes.length - 16 + 1) })), 'TruncatedProxyHeaderError')
    assertThrowsNamed(() => decodeProxyHeader(mutate((_, view) => { view.setUint16(14, 35) })), 'TruncatedProxyHeaderError')
    assertThrowsNamed(() => decodeProxyHeader(mutate((_, view) => { view.setUint16(14, MAX_PROXY_HEADER_BYTES - 16 + 1) })), 'ProxyHeaderTooLargeError')
    assertThrowsNamed(() => decodeProxyHeader(mutate((_, view) => { view.setUint16(14, 0xffff) })), 'ProxyHeaderTooLargeError')
    // the length cuts the last TLV (VNI, 6 bytes) short
    assertThrowsNamed(() => decodeProxyHeader(mutate((bytes, view) => { view.setUint16(14, bytes.length - 16 - 2) })), 'MalformedProxyTlvError')
    assertThrowsNamed(() => decodeProxyHeader(mutate((bytes, view) => { view.setUint16(14, bytes.length - 16 - 4) })), 'MalformedProxyTlvError')
    // the peer id TLV (at 52) says it runs past the header
    assertThrowsNamed(() => decodeProxyHeader(mutate((_, view) => { view.setUint16(53, 500) })), 'MalformedProxyTlvError')
    // the VNI TLV is the last 6 bytes: make it a second name, or the name a second peer id
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[bytes.length - 6] = ProxyTlv.PEER_ID })), 'MalformedProxyTlvError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[bytes.length - 6] = 0x04 })), 'MalformedProxyTlvError')
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[52] = 0x04 })), 'MalformedProxyTlvError')
    assertThrowsNamed(() => decodeProxyHeader(mutate((bytes, view) => {
      view.setUint16(bytes.length - 5, 2) // the VNI TLV holds 2 bytes, the third is a stray TLV head
    })), 'MalformedProxyTlvError')
    // the name "alice" (at 52 + 3 + 52 + 3) with a byte that is not UTF-8
    assertThrowsNamed(() => decodeProxyHeader(mutate(bytes => { bytes[110] = 0xff })), 'MalformedProxyTlvError')
  })

  it('arbitrary bytes, and arbitrary changes to a valid header, give only ProxyHeaderErrors', () => {
    const check = (bytes: Uint8Array): void => {
      try {
        decodeProxyHeader(bytes)
      } catch (err) {
        assert.ok(err instanceof ProxyHeaderError, String(err))
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), bytes => { check(Uint8Array.from([...PROXY_V2_SIGNATURE, 0x21, 0x21, ...bytes])) }), { numRuns })
    const valid = encodeProxyHeader(example)
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), changes => {
      const bytes = Uint8Array.from(valid)
      for (const [at, value] of changes) bytes[at] = value
      check(bytes)
    }), { numRuns })
  })

  it('encoding', () => {
    assertThrowsNamed(() => encodeProxyHeader({ ...example, source: new Uint8Array(4) }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, destination: new Uint8Array(17) }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, sourcePort: 65536 }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, destinationPort: -1 }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, sourcePort: 1.5 }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, vni: 0x1000000 }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, peerId: '' }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, groups: ['ops,dev'] }), 'InvalidProxyHeaderInitError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, groups: [''] }), 'InvalidProxyHeaderInitError')
    const fixed = encodeProxyHeader({ ...example, name: undefined }).length + 3
    assert.equal(encodeProxyHeader({ ...example, name: 'n'.repeat(MAX_PROXY_HEADER_BYTES - fixed) }).length, MAX_PROXY_HEADER_BYTES)
    assertThrowsNamed(() => encodeProxyHeader({ ...example, name: 'n'.repeat(MAX_PROXY_HEADER_BYTES - fixed + 1) }), 'ProxyHeaderTooLargeError')
    assertThrowsNamed(() => encodeProxyHeader({ ...example, groups: Array.from({ length: 300 }, (_, i) => `group-${i}`) }), 'ProxyHeaderTooLargeError')
  })
})

const nginxSkip = nginxMissing()

describe('a real nginx reads the header (listen ... proxy_protocol)', { skip: nginxSkip }, () => {
  let nginx: Nginx | undefined

  before(async () => { nginx = await startNginx() })
  after(async () => { await nginx?.stop() })

  /** One HTTP request on a raw socket, `chunks` written in order with a pause between; resolves with what came back before the close (at most 10 s). */
  async function request (chunks: Uint8Array[], pauseMs = 0): Promise<string> {
    const socket = connect({ host: '127.0.0.1', port: nginx!.port, noDelay: true })
    let reply = ''
    socket.on('data', chunk => { reply += chunk.toString() })
    socket.on('error', () => {})
    const closed = new Promise(resolve => socket.once('close', resolve))
    const timer = setTimeout(() => socket.destroy(), 10_000)
    try {
      await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0 && pauseMs > 0) await sleep(pauseMs)
        if (socket.destroyed) break
        socket.write(chunk)
      }
      await closed
      return reply
    } finally {
      clearTimeout(timer)
      socket.destroy()
    }
  }

  const httpRequest = (path: string): Uint8Array => new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: mesh\r\nConnection: close\r\n\r\n`)

  async function logged (path: string): Promise<NginxAccess[]> {
    return waitFor(`nginx to log ${path}`, async () => {
      const lines = (await nginx!.accessLog()).filter(line => line.request === `GET ${path} HTTP/1.1`)
      return lines.length > 0 ? lines : undefined
    }, 5_000, 50)
  }

  it('logs the caller\'s virtual address, port and the node\'s own address from the encoder\'s header', async () => {
    const reply = await request([encodeProxyHeader(example), httpRequest('/example')])
    assert.match(reply, /^HTTP\/1\.1 200 /)
    assert.ok(reply.endsWith(NGINX_BODY), reply)
    const [line] = await logged('/example')
    assert.equal(line.proxyProtocolAddr, CALLER_ADDRESS)
    assert.equal(line.proxyProtocolPort, 49152)
    assert.equal(line.proxyProtocolServerAddr, CALLEE_ADDRESS)
    assert.equal(line.proxyProtocolServerPort, 8080)
    assert.equal(line.remoteAddr, '127.0.0.1')
    assert.equal(line.serverPort, nginx!.port)
  })

  it('the header and the request in one write, as a tunnel\'s first flight may be', async () => {
    const init = { ...example, source: virtualIpv6Bytes(undefined, caller), destination: virtualIpv6Bytes(undefined, callee), vni: 0 }
    const reply = await request([Uint8Array.from([...encodeProxyHeader(init), ...httpRequest('/one-write')])])
    assert.match(reply, /^HTTP\/1\.1 200 /)
    assert.equal((await logged('/one-write'))[0].proxyProtocolAddr, CALLER_ALLOWLIST_ADDRESS)
  })

  it(`accepts a header of MAX_PROXY_HEADER_BYTES (${MAX_PROXY_HEADER_BYTES}) and refuses one byte more`, async () => {
    const fixed = encodeProxyHeader({ ...example, name: undefined }).length + 3
    const largest = encodeProxyHeader({ ...example, name: 'n'.repeat(MAX_PROXY_HEADER_BYTES - fixed) })
    assert.equal(largest.length, MAX_PROXY_HEADER_BYTES)
    assert.match(await request([largest, httpRequest('/largest')]), /^HTTP\/1\.1 200 /)
    assert.equal((await logged('/largest'))[0].proxyProtocolAddr, CALLER_ADDRESS)
    // one byte more than the encoder allows (a stray byte behind the TLVs): nginx refuses on the size alone
    const tooLarge = Uint8Array.from([...largest, 0x00])
    new DataView(tooLarge.buffer).setUint16(14, tooLarge.length - 16)
    assert.equal(await request([tooLarge, httpRequest('/too-large')]), '', 'nginx closes without an answer')
    assert.match(await nginx!.errorLog(), /header is too large/)
  })

  it('refuses a header split over two writes: the node must write it in one', async () => {
    const header = encodeProxyHeader(example)
    assert.equal(await request([header.subarray(0, 40), header.subarray(40), httpRequest('/split')], 300), '')
    assert.equal((await nginx!.accessLog()).filter(line => line.request.includes('/split')).length, 0)
  })
})
