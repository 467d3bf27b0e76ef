/**
 * Tunnel limits and refusals a user can understand: past `tunnels.maxPerPeer` the
 * exposing node answers OVERLOADED, an unknown service answers UNKNOWN_SERVICE, a
 * service nobody listens on answers SERVICE_UNREACHABLE; each closes the local client's
 * connection promptly and is counted by kind on the forward.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { freePort, waitFor } from '../helpers/daemon.ts'
import { expose, forward, forwardView, serviceView, startTrustedPair } from '../helpers/services/mesh.ts'
import { connectTcp, roundTrip, startEchoServer, watchEnding } from '../helpers/services/tcp.ts'
import type { Pair } from '../helpers/services/mesh.ts'
import type { TcpService } from '../helpers/services/tcp.ts'

describe('tunnel limits and refusals', () => {
  let pair: Pair
  let echo: TcpService

  before(async () => {
    echo = await startEchoServer()
    pair = await startTrustedPair({ a: { env: { AGENTMESH_TUNNELS_MAX_PER_PEER: '1' } } })
    await expose(pair.a, 'echo', echo.target)
  })

  after(async () => {
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), echo?.close()])
  })

  it('refuses a tunnel past tunnels.maxPerPeer with OVERLOADED, and takes one again once a slot is free', async () => {
    const fwd = await forward(pair.b, pair.aId, 'echo')
    const held = await connectTcp(fwd.port)
    try {
      held.write('hold\n')
      await new Promise(resolve => held.once('data', resolve))
      await assertOverloaded(fwd.port)
    } finally {
      held.destroy()
    }
    await waitFor('the held tunnel to close', async () => (await serviceView(pair.a, 'echo')).active === 0)
    assert.equal((await roundTrip(fwd.port, Buffer.from('again\n'))).toString(), 'again\n')
  })

  /** A second connection while one holds the only slot: closed with nothing received, counted on both ends. */
  async function assertOverloaded (port: number): Promise<void> {
    const refused = await watchEnding(port, Buffer.from('second\n'), 15_000)
    assert.equal(refused.bytes, 0)
    assert.notEqual(refused.how, 'timeout')
    await waitFor('the refusal to be counted', async () => (await forwardView(pair.b, port)).failures.overloaded === 1)
    assert.equal((await serviceView(pair.a, 'echo')).failures.overloaded, 1)
  }

  it('counts unknown services and unreachable services by kind', async () => {
    const unknown = await forward(pair.b, pair.aId, 'no-such-service')
    assert.notEqual((await watchEnding(unknown.port, Buffer.from('x'), 15_000)).how, 'timeout')
    await waitFor('unknown_service to be counted', async () => (await forwardView(pair.b, unknown.port)).failures.unknown_service === 1)

    await expose(pair.a, 'down', `127.0.0.1:${await freePort()}`)
    const down = await forward(pair.b, pair.aId, 'down')
    assert.notEqual((await watchEnding(down.port, Buffer.from('x'), 15_000)).how, 'timeout')
    await waitFor('service_unreachable to be counted', async () => (await forwardView(pair.b, down.port)).failures.service_unreachable === 1)
    assert.equal((await serviceView(pair.a, 'down')).up, false)
  })
})
