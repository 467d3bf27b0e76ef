/**
 * The address predicates of src/addresses/: reachability, the relays read off relayed
 * addresses, the transport a connection runs on, the dial order, the mesh's scope and
 * host:port, each on fixed multiaddrs (public ones outside the documentation ranges,
 * which libp2p counts as private).
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { dialOrder } from '../../src/addresses/dial-order.ts'
import { formatHostPort, isLoopbackHost, isPossibleHost, parseHostPort, tcpHostPort } from '../../src/addresses/host-port.ts'
import { meshScope } from '../../src/addresses/mesh-scope.ts'
import { peerIdOf, relayOf } from '../../src/addresses/peer-ids.ts'
import { isPublicDirect, reachability, relaysOf } from '../../src/addresses/reachability.ts'
import { transportOf } from '../../src/addresses/transport-name.ts'
import type { Address } from '@libp2p/interface'
import type { NodeAddress } from '@libp2p/interface-internal'

let relay: string
let self: string

before(async () => {
  relay = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  self = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
})

function nodeAddress (address: string, verified: boolean): NodeAddress {
  return { multiaddr: multiaddr(address), verified, expires: Date.now() + 60_000, type: 'observed' }
}

const publicTcp = (): string => '/ip4/1.2.3.4/tcp/4001'
const circuit = (): string => `/ip4/5.6.7.8/tcp/4001/p2p/${relay}/p2p-circuit/p2p/${self}`
const circuitWebrtc = (): string => `/ip4/5.6.7.8/tcp/4001/p2p/${relay}/p2p-circuit/webrtc/p2p/${self}`

describe('reachability', () => {
  it('is private with only private, loopback and relayed addresses, verified or not', () => {
    const addresses = ['/ip4/127.0.0.1/tcp/4001', '/ip4/192.168.1.20/tcp/4001', '/ip6/::1/tcp/4001', circuit(), circuitWebrtc()]
    assert.equal(reachability(addresses.map(address => nodeAddress(address, true))), 'private')
    assert.equal(reachability([]), 'private')
  })

  it('is unknown while a public address awaits verification, public once one is verified', () => {
    assert.equal(reachability([nodeAddress(publicTcp(), false), nodeAddress(circuit(), true)]), 'unknown')
    assert.equal(reachability([nodeAddress(publicTcp(), true), nodeAddress('/ip4/10.0.0.2/tcp/4001', true)]), 'public')
    assert.equal(reachability([nodeAddress('/ip6/2606:4700::1111/tcp/4001', true)]), 'public')
  })

  it('counts a public address as direct only when it is not relayed', () => {
    assert.equal(isPublicDirect(multiaddr(publicTcp())), true)
    assert.equal(isPublicDirect(multiaddr(`${publicTcp()}/p2p/${self}`)), true)
    assert.equal(isPublicDirect(multiaddr('/ip4/10.1.2.3/tcp/4001')), false)
    assert.equal(isPublicDirect(multiaddr(circuit())), false)
    assert.equal(isPublicDirect(multiaddr(circuitWebrtc())), false)
  })

  it('reads the relays holding a reservation off the relayed addresses, once each', () => {
    const other = '/ip4/5.6.7.9/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo/p2p-circuit'
    const addresses = [publicTcp(), circuit(), circuitWebrtc(), other, `/webrtc/p2p/${self}`].map(address => nodeAddress(address, true))
    assert.deepEqual(relaysOf(addresses), [relay, '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'])
  })
})

describe('peer ids in an address', () => {
  it('finds the peer an address leads to and the relay it goes through', () => {
    assert.equal(peerIdOf(multiaddr(circuit())), self)
    assert.equal(peerIdOf(multiaddr(publicTcp())), undefined)
    assert.equal(relayOf(multiaddr(circuit())), relay)
    assert.equal(relayOf(multiaddr(circuitWebrtc())), relay)
    assert.equal(relayOf(multiaddr(`${publicTcp()}/p2p/${self}`)), undefined)
    assert.equal(relayOf(multiaddr(`/webrtc/p2p/${self}`)), undefined, 'an inbound WebRTC connection names no relay')
  })
})

describe('transport name', () => {
  const cases: Array<[string, () => string]> = [
    ['tcp', () => `${publicTcp()}/p2p/${self}`],
    ['tcp', () => '/ip6/::1/tcp/22'],
    ['tcp', () => '/dns4/relay.example/tcp/4001'],
    ['relay', circuit],
    ['relay', () => `/p2p/${relay}/p2p-circuit/p2p/${self}`],
    ['relay', () => `/dns4/relay.example/tcp/443/wss/p2p/${relay}/p2p-circuit/p2p/${self}`],
    ['webrtc', circuitWebrtc],
    ['webrtc', () => `/webrtc/p2p/${self}`],
    ['webrtc', () => '/ip4/1.2.3.4/udp/4001/webrtc-direct'],
    ['quic', () => '/ip4/1.2.3.4/udp/4001/quic-v1'],
    ['websockets', () => '/ip4/1.2.3.4/tcp/443/wss'],
    ['websockets', () => '/dns4/example.org/tcp/80/ws'],
    ['ip4/udp', () => '/ip4/1.2.3.4/udp/4001']
  ]
  for (const [name, address] of cases) {
    it(`names ${name}: ${address().replaceAll(/12D3\w+/g, '<id>')}`, () => {
      assert.equal(transportOf(multiaddr(address())), name)
    })
  }
})

describe('dial order', () => {
  function address (text: string, isCertified = false): Address {
    return { multiaddr: multiaddr(text), isCertified }
  }

  it('dials public direct addresses first (certified first), then relayed, private and loopback ones, WebRTC last', () => {
    const expected = [
      address(publicTcp(), true),
      address('/ip4/1.2.3.5/tcp/4001'),
      address(circuit()),
      address('/ip4/192.168.1.20/tcp/4001'),
      address('/ip4/127.0.0.1/tcp/4001'),
      address(circuitWebrtc())
    ]
    for (const shuffled of [[...expected].reverse(), [expected[5], expected[3], expected[0], expected[4], expected[2], expected[1]]]) {
      assert.deepEqual(shuffled.sort(dialOrder).map(a => a.multiaddr.toString()), expected.map(a => a.multiaddr.toString()))
    }
  })

  it('puts a WebRTC address after even a loopback one: it needs a relayed connection and ICE first', () => {
    assert.equal(dialOrder(address(circuitWebrtc(), true), address('/ip4/127.0.0.1/tcp/4001')), 1)
    assert.equal(dialOrder(address('/ip4/127.0.0.1/tcp/4001'), address(circuitWebrtc(), true)), -1)
  })

  it('leaves two addresses of the same kind in their order', () => {
    assert.equal(dialOrder(address('/ip4/1.2.3.4/tcp/1'), address('/ip4/1.2.3.5/tcp/2')), 0)
  })
})

describe('mesh scope', () => {
  it('is a LAN with no bootstrap node, or only private and loopback ones', () => {
    assert.equal(meshScope([]), 'lan')
    assert.equal(meshScope([`/ip4/127.0.0.1/tcp/4001/p2p/${relay}`, `/ip4/10.0.0.5/tcp/4001/p2p/${relay}`, '/ip6/fd00::5/tcp/4001']), 'lan')
    assert.equal(meshScope(['/dns4/localhost/tcp/4001']), 'lan')
  })

  it('is the internet as soon as one bootstrap node is public or a DNS name', () => {
    assert.equal(meshScope([`/ip4/192.168.1.2/tcp/4001/p2p/${relay}`, `${publicTcp()}/p2p/${relay}`]), 'internet')
    assert.equal(meshScope([`/dns4/boot.example.org/tcp/4001/p2p/${relay}`]), 'internet')
  })
})

describe('host:port', () => {
  it('parses host:port, [v6]:port and, with a default host, a bare port', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 })
    assert.deepEqual(parseHostPort('[::1]:22'), { host: '::1', port: 22 })
    assert.deepEqual(parseHostPort('db.internal:5432'), { host: 'db.internal', port: 5432 })
    assert.deepEqual(parseHostPort('8080', { defaultHost: '127.0.0.1' }), { host: '127.0.0.1', port: 8080 })
    assert.deepEqual(parseHostPort('localhost:0', { allowZero: true }), { host: 'localhost', port: 0 })
  })

  it('refuses what is not host:port, saying what it expected', () => {
    for (const text of ['8080', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:0', '::1:22', 'a:b:c', '[::1]22', '']) {
      assert.throws(() => parseHostPort(text), { message: `"${text}" is not host:port (e.g. 127.0.0.1:8080)` }, text)
    }
    assert.throws(() => parseHostPort('x', { defaultHost: '127.0.0.1' }), /is not \[host:\]port/)
  })

  it('with checkHost, refuses a host that is neither an IP address nor a possible host name', () => {
    assert.throws(() => parseHostPort('a b:80', { checkHost: true }), /"a b" in "a b:80" is neither an IP address nor a possible host name/)
    assert.deepEqual(parseHostPort('a b:80'), { host: 'a b', port: 80 }, 'state saved before the check still loads')
    for (const host of ['127.0.0.1', '::1', 'localhost', 'db-1.internal', 'example.org.']) assert.equal(isPossibleHost(host), true, host)
    for (const host of ['x_y!', '-lead.example', `${'a'.repeat(64)}.example`, '', 'a..b']) assert.equal(isPossibleHost(host), false, host)
  })

  it('knows the loopback hosts, and brackets IPv6 when formatting', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', 'localhost']) assert.equal(isLoopbackHost(host), true, host)
    for (const host of ['0.0.0.0', '10.0.0.1', '::', 'example.org', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host)
    assert.equal(formatHostPort({ host: '::1', port: 22 }), '[::1]:22')
    assert.equal(formatHostPort({ host: '127.0.0.1', port: 80 }), '127.0.0.1:80')
    assert.deepEqual(parseHostPort(formatHostPort({ host: 'fe80::1', port: 443 })), { host: 'fe80::1', port: 443 })
  })

  it('reads the IP address and port of a TCP multiaddr, and nothing from any other', () => {
    assert.deepEqual(tcpHostPort(multiaddr('/ip4/10.0.0.1/tcp/4001')), { host: '10.0.0.1', port: 4001, family: 'ip4' })
    assert.deepEqual(tcpHostPort(multiaddr(`/ip6/::1/tcp/0/p2p/${self}`)), { host: '::1', port: 0, family: 'ip6' })
    for (const other of [circuit(), '/ip4/10.0.0.1/udp/4001', '/dns4/example.org/tcp/4001', '/ip4/10.0.0.1/tcp/80/ws']) {
      assert.equal(tcpHostPort(multiaddr(other)), undefined, other)
    }
  })
})
