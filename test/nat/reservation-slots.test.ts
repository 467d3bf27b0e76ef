/**
 * Relay reservations cannot be exhausted (issue 18, item 5): a `--relay` daemon keeps
 * `relay.reservedForTrusted` of its reservations for trusted peers, caps untrusted
 * reservations per IP address, and ends an untrusted peer's reservation when it
 * disconnects. Throwaway libp2p identities on 127.0.0.1 and 127.0.0.2 send real
 * circuit relay v2 RESERVE requests.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { pbStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { HopMessage, Status } from '../../node_modules/@libp2p/circuit-relay-v2/dist/src/pb/index.js'
import { cliJson, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { trust } from '../helpers/services/mesh.ts'
import type { Libp2p } from '@libp2p/interface'

const HOP = '/libp2p/circuit/relay/0.2.0/hop'
const MAX = 6
const RESERVED = 2
const PER_IP = 3

describe('relay reservations', () => {
  let relay: TestDaemon
  let relayAddress: string
  const clients: Libp2p[] = []

  /** A throwaway identity that dials from `localAddress`. */
  async function client (localAddress: string): Promise<Libp2p> {
    const node = await createLibp2p({
      // node:net's connect options, which @libp2p/tcp passes on (its type names only a few)
      transports: [tcp({ dialOpts: { localAddress } as any })],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()]
    })
    clients.push(node)
    return node
  }

  /** One RESERVE request; the status the relay answers. */
  async function reserve (node: Libp2p): Promise<Status> {
    const stream = await node.dialProtocol(multiaddr(relayAddress), HOP, { signal: AbortSignal.timeout(10_000) })
    const hop = pbStream(stream).pb(HopMessage)
    await hop.write({ type: HopMessage.Type.RESERVE })
    const answer = await hop.read({ signal: AbortSignal.timeout(10_000) })
    await stream.close().catch(() => {})
    return answer.status ?? Status.UNUSED
  }

  function granted (status: Status): boolean {
    return status === Status.OK
  }

  async function reservations (): Promise<number> {
    return (await cliJson(relay.dataDir, ['status'])).relayService.reservations
  }

  before(async () => {
    relay = await TestDaemon.start({
      args: ['--relay'],
      env: {
        AGENTMESH_RELAY_STUN: 'false',
        AGENTMESH_RELAY_MAX_RESERVATIONS: String(MAX),
        AGENTMESH_RELAY_RESERVED_FOR_TRUSTED: String(RESERVED),
        AGENTMESH_RELAY_MAX_RESERVATIONS_PER_IP: String(PER_IP)
      }
    })
    relayAddress = (await relay.id()).addresses.find(address => address.startsWith('/ip4/127.0.0.1/'))!
  })

  after(async () => {
    await Promise.all(clients.map(async node => node.stop()))
    await relay?.destroy()
  })

  it(`caps untrusted reservations at ${PER_IP} per IP address and keeps ${RESERVED} of ${MAX} for trusted peers`, async () => {
    const fromOne = await Promise.all(Array.from({ length: PER_IP + 1 }, async () => client('127.0.0.1')))
    const fromTwo = await Promise.all(Array.from({ length: PER_IP }, async () => client('127.0.0.2')))
    // a refusal by these rules is PERMISSION_DENIED (circuit relay v2 answers a gater's refusal so)
    const statuses = []
    for (const node of fromOne) statuses.push(granted(await reserve(node)))
    assert.deepEqual(statuses, [...Array(PER_IP).fill(true), false], `${PER_IP} from 127.0.0.1, then refused`)
    const second = []
    for (const node of fromTwo) second.push(granted(await reserve(node)))
    // 127.0.0.2 may have PER_IP too, but untrusted peers hold at most MAX - RESERVED in all
    assert.deepEqual(second, [true, ...Array(PER_IP - 1).fill(false)], 'the rest are kept for trusted peers')
    assert.equal(await reservations(), MAX - RESERVED)
    const trusted = await client('127.0.0.1')
    await trust(relay, trusted.peerId.toString())
    assert.equal(await reserve(trusted), Status.OK, 'a trusted peer still gets one, from an IP that is at its cap')
    assert.equal(await reserve(trusted), Status.OK, 'and refreshes it')
    assert.equal(await reservations(), MAX - RESERVED + 1)
  })

  it('ends an untrusted reservation when its peer disconnects, and keeps the trusted one', async () => {
    const untrusted = clients.slice(0, PER_IP)
    await Promise.all(untrusted.map(async node => node.stop()))
    await waitFor('the disconnected peers\' reservations to end', async () => (await reservations()) === MAX - RESERVED + 1 - PER_IP, 10_000)
    const newcomer = await client('127.0.0.1')
    assert.equal(await reserve(newcomer), Status.OK, 'their slots are free again')
    assert.equal(relay.process.exitCode, null)
  })
})
