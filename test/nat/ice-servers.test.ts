/**
 * Where a relay answers STUN (src/nat/stun-endpoints.ts) and the ICE servers a node gives
 * a new WebRTC connection (src/nat/ice-servers.ts): both read the relay's TCP addresses,
 * so that a private mesh needs no outside STUN server.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { iceServers } from '../../src/nat/ice-servers.ts'
import { stunEndpoints } from '../../src/nat/stun-endpoints.ts'

const RELAY_ID = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const addresses = (...texts: string[]): ReturnType<typeof multiaddr>[] => texts.map(text => multiaddr(text))

describe('STUN endpoints of a relay', () => {
  it('answers on the host and port of each TCP listen address', () => {
    assert.deepEqual(stunEndpoints(addresses('/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4002'), []), [
      { host: '0.0.0.0', port: 4001 },
      { host: '::', port: 4002 }
    ])
  })

  it('takes the port its TCP listener was given for a listen port of 0, from the bound address of the same family', () => {
    const bound = addresses('/ip6/::1/tcp/40100', '/ip4/127.0.0.1/tcp/40200', '/ip4/127.0.0.1/tcp/40300')
    assert.deepEqual(stunEndpoints(addresses('/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0'), bound), [
      { host: '127.0.0.1', port: 40200 },
      { host: '::1', port: 40100 }
    ])
  })

  it('skips a port 0 with no bound address of its family, and every address that is not IP over TCP', () => {
    const listen = addresses(
      '/ip6/::/tcp/0',
      '/ip4/0.0.0.0/udp/4001/quic-v1',
      '/dns4/relay.example/tcp/4001',
      `/ip4/1.2.3.4/tcp/4001/p2p/${RELAY_ID}/p2p-circuit`,
      '/webrtc',
      '/ip4/127.0.0.1/tcp/4003'
    )
    assert.deepEqual(stunEndpoints(listen, addresses('/ip4/127.0.0.1/tcp/4003')), [{ host: '127.0.0.1', port: 4003 }])
  })
})

describe('ICE servers', () => {
  it('are the configured ones first, then a STUN server at each relay address the node reached over TCP', () => {
    const relays = addresses('/ip4/5.6.7.8/tcp/4001', `/ip4/5.6.7.9/tcp/4002/p2p/${RELAY_ID}`, '/ip6/2606:4700::1111/tcp/4003')
    assert.deepEqual(iceServers(['stun:stun.example.org:3478', 'turn:turn.example.org'], relays), [
      { urls: 'stun:stun.example.org:3478' },
      { urls: 'turn:turn.example.org' },
      { urls: 'stun:5.6.7.8:4001' },
      { urls: 'stun:5.6.7.9:4002' },
      { urls: 'stun:[2606:4700::1111]:4003' }
    ])
  })

  it('name each server once, and nothing for an address without an IP and a TCP port', () => {
    const relays = addresses('/ip4/5.6.7.8/tcp/4001', `/ip4/5.6.7.8/tcp/4001/p2p/${RELAY_ID}`, '/dns4/relay.example/tcp/4001', '/ip4/5.6.7.8/udp/4001/quic-v1')
    assert.deepEqual(iceServers(['stun:5.6.7.8:4001'], relays), [{ urls: 'stun:5.6.7.8:4001' }])
    assert.deepEqual(iceServers([], []), [])
  })
})
