/**
 * Deny by default: a peer the exposing node does not trust gets nothing
 * through, and the service behind it never sees a connection; a node opens
 * no tunnel to a peer it does not trust. A counting echo server stands
 * behind the service; C forwards to it through A. (`expose` and `services`
 * open a TCP connection to the target to report it up or down, so the count
 * is taken across the attempts, with no such call among them.)
 */

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TestDaemon, waitFor } from '../helpers/daemon.ts'
import { agentmesh, expose, failureCount, forward, forwardView, serviceView, trust, trusted } from '../helpers/services/mesh.ts'
import { roundTrip, startEchoServer, watchEnding } from '../helpers/services/tcp.ts'
import type { Forward } from '../helpers/services/mesh.ts'
import type { TcpService } from '../helpers/services/tcp.ts'

const FAILURE_KINDS = ['unknown_service', 'denied', 'service_unreachable', 'peer_unreachable', 'overloaded', 'bad_envelope', 'wrong_network', 'unsupported_critical_option', 'reset']
const ATTEMPTS = 3
const PROMPT_MS = 5_000

describe('trust: deny by default', () => {
  const daemons: TestDaemon[] = []
  let a: TestDaemon, c: TestDaemon
  let aId: string, cId: string
  let counting: TcpService | undefined
  let fwd: Forward

  /** Tries ATTEMPTS connections through C's forward: each must be closed promptly with nothing received. */
  async function assertNothingGetsThrough (): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const ending = await watchEnding(fwd.port, Buffer.from(`attempt ${attempt}\n`), 15_000)
      assert.notEqual(ending.how, 'timeout', `attempt ${attempt}: the connection is still open after 15 s`)
      assert.equal(ending.bytes, 0, `attempt ${attempt}: nothing comes back`)
      assert.ok(ending.ms < PROMPT_MS, `attempt ${attempt}: closed within ${PROMPT_MS} ms (took ${ending.ms} ms, ${ending.how})`)
    }
  }

  before(async () => {
    counting = await startEchoServer()
    a = await TestDaemon.start()
    daemons.push(a)
    const aIdentity = await a.id()
    aId = aIdentity.peerId
    c = await TestDaemon.start({ bootstrap: aIdentity.addresses })
    daemons.push(c)
    cId = (await c.id()).peerId
    await expose(a, 'counted', counting.target, 'tcp')
    // C trusts A; A does not trust C
    await trust(c, aId, 'a')
    fwd = await forward(c, aId, 'counted')
  })

  after(async () => {
    await Promise.all([...daemons.map(async daemon => daemon.destroy()), counting?.close()])
  })

  it('trust ls lists what trust add stored, with name and groups, and trust rm removes it', async () => {
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    await agentmesh(a, ['trust', 'add', other, '--name', 'someone', '--groups', 'ops,dev'])
    assert.deepEqual((await trusted(a)).find(entry => entry.peerId === other), { peerId: other, name: 'someone', groups: ['ops', 'dev'] })
    await agentmesh(a, ['trust', 'rm', other])
    assert.deepEqual(await trusted(a), [], 'A trusts no one')
    assert.deepEqual((await trusted(c)).map(entry => entry.peerId), [aId], 'C trusts A')
  })

  it('a peer the exposing node does not trust gets nothing through, and the service sees no connection', async t => {
    // `expose` and `services` check that the target accepts a TCP connection: those probes are not tunnels
    const probes = counting!.connections
    await assertNothingGetsThrough()
    const view = await waitFor('C to count the failures', async () => {
      const entry = await forwardView(c, fwd.port)
      return failureCount(entry.failures) >= ATTEMPTS && entry.active === 0 ? entry : undefined
    })
    t.diagnostic(`C's forward counted ${JSON.stringify(view.failures)}`)
    for (const kind of Object.keys(view.failures)) assert.ok(FAILURE_KINDS.includes(kind), `failure kind '${kind}' is one of the contract's`)
    // A resets an untrusted peer's stream before reading a byte of it (tunnel SPEC section 2, step 3.1)
    assert.deepEqual(view.failures, { reset: failureCount(view.failures) })
    assert.equal(view.active, 0)
    assert.equal(view.bytesIn, 0, 'C received nothing')
    assert.equal(counting!.connections - probes, 0, 'the service behind A saw no connection')
    const service = await serviceView(a, 'counted')
    assert.equal(service.connections, 0, 'A accepted no tunnel')
    assert.equal(service.active, 0)
    assert.equal(service.bytesIn, 0)
  })

  it('once A trusts C, the same forward carries connections', async () => {
    await trust(a, cId, 'c')
    const before = counting!.connections
    const reply = await waitFor('an echo through the forward', async () => {
      const echoed = await roundTrip(fwd.port, Buffer.from('now trusted'), 5_000)
      return echoed.length > 0 ? echoed.toString() : undefined
    }, 20_000, 500)
    assert.equal(reply, 'now trusted')
    assert.ok(counting!.connections > before, 'the service saw the tunnelled connection')
  })

  it('a node opens no tunnel to a peer it does not trust', async t => {
    await agentmesh(c, ['trust', 'rm', aId])
    const before = counting!.connections
    const countedBefore = (await forwardView(c, fwd.port)).failures
    const failuresBefore = failureCount(countedBefore)
    await assertNothingGetsThrough()
    const view = await waitFor('C to count the failures', async () => {
      const entry = await forwardView(c, fwd.port)
      return failureCount(entry.failures) >= failuresBefore + ATTEMPTS ? entry : undefined
    })
    t.diagnostic(`C's forward counted ${JSON.stringify(view.failures)}`)
    // C refuses to open a tunnel to a peer it does not trust, and counts it denied (tunnel SPEC section 5)
    assert.equal((view.failures.denied ?? 0) - (countedBefore.denied ?? 0), failureCount(view.failures) - failuresBefore, 'every new failure is denied')
    assert.equal(counting!.connections, before, 'the service saw no new connection')
  })
})
