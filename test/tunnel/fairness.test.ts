/**
 * One trusted peer cannot take every tunnel slot (issue 18, item 2), between real
 * daemons: B opens tunnels to A until A answers OVERLOADED, with slots left that A
 * keeps for other peers, and C, a third trusted peer, still gets its tunnel.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { TestDaemon, waitFor } from '../helpers/daemon.ts'
import { expose, forward, forwardView, serviceView, startTrustedPair, trust } from '../helpers/services/mesh.ts'
import { connectTcp, startEchoServer, watchEnding } from '../helpers/services/tcp.ts'
import type { Pair } from '../helpers/services/mesh.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { Socket } from 'node:net'

const LIMITS = { AGENTMESH_TUNNELS_MAX_TOTAL: '6', AGENTMESH_TUNNELS_MAX_PER_PEER: '6', AGENTMESH_TUNNELS_RESERVED_FOR_OTHERS: '2' }

describe('tunnel slots are shared between peers', () => {
  let pair: Pair
  let c: TestDaemon
  let echo: TcpService
  const held: Socket[] = []

  before(async () => {
    echo = await startEchoServer()
    pair = await startTrustedPair({ a: { env: LIMITS } })
    c = await TestDaemon.start({ bootstrap: (await pair.a.id()).addresses })
    await trust(pair.a, (await c.id()).peerId, 'c')
    await trust(c, pair.aId, 'a')
    await expose(pair.a, 'echo', echo.target)
  })

  after(async () => {
    for (const socket of held) socket.destroy()
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), c?.destroy(), echo?.close()])
  })

  async function hold (port: number): Promise<void> {
    const socket = await connectTcp(port)
    held.push(socket)
    socket.write('hold\n')
    await new Promise(resolve => socket.once('data', resolve))
  }

  it('a busy peer is refused before the last slots, which another peer then gets', async () => {
    const fromB = await forward(pair.b, pair.aId, 'echo')
    for (let i = 0; i < 4; i++) await hold(fromB.port)
    const refused = await watchEnding(fromB.port, Buffer.from('one more\n'), 15_000)
    assert.equal(refused.bytes, 0, 'B\'s fifth tunnel is refused, with 2 of 6 slots free')
    await waitFor('the refusal to be counted', async () => (await forwardView(pair.b, fromB.port)).failures.overloaded === 1)
    const fromC = await forward(c, pair.aId, 'echo')
    await hold(fromC.port)
    assert.equal((await serviceView(pair.a, 'echo')).active, 5)
  })
})
