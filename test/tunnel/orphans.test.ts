/**
 * No orphaned tunnels (issue 18, item 1): a tunnel whose other end is gone ends, in
 * every state, and frees its slot. Real daemons, real TCP clients and services:
 * - a half-closed tunnel (the client sent its FIN; the service holds its side open)
 *   is reset when the forwarding daemon stops (which resets its tunnels and stops at
 *   once), is killed, or closes its connection gracefully;
 * - a tunnel paused with bytes buffered (the service does not read) is reset when the
 *   forwarding daemon is killed;
 * - a half-closed tunnel that carries nothing for `tunnels.halfClosedIdleSeconds` is
 *   reset both ways;
 * - a service that stops reading and resets while clients are still sending: every
 *   client hears a reset, none a clean end, and no tunnel stays active.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeRequest, ProtocolType, responseDecoder, Status } from '../../protocols/envelope/index.ts'
import { TUNNEL_PROTOCOL } from '../../protocols/tunnel/index.ts'
import { readEnvelope } from '../../protocols/tunnel/read-envelope.ts'
import { waitFor } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { KiB, MiB, deterministicChunks } from '../helpers/services/data.ts'
import { expose, forward, forwardView, serviceView, startTrustedPair, trust } from '../helpers/services/mesh.ts'
import { closing, connectTcp, startTcpServer, writeChunks } from '../helpers/services/tcp.ts'
import { within } from '../helpers/services/within.ts'
import type { Pair } from '../helpers/services/mesh.ts'
import type { Closing, TcpService } from '../helpers/services/tcp.ts'
import type { Socket } from 'node:net'

/** how long an orphan may take to be noticed: a few event-loop turns and a TCP round trip, with a wide margin */
const NOTICE_MS = 10_000
const IDLE_SECONDS = 2
const CLOSE_WHILE_SENDING = 60

describe('orphaned tunnels end', () => {
  const pairs: Pair[] = []
  const servers: TcpService[] = []

  after(async () => {
    await Promise.all([...pairs.flatMap(pair => [pair.a.destroy(), pair.b.destroy()]), ...servers.map(async server => server.close())])
  })

  /** A service on A whose connections the test gets, forwarded from B. */
  async function setUp (handler: (socket: Socket) => void, env: NodeJS.ProcessEnv = {}): Promise<{ pair: Pair, port: number, accepted: Socket[] }> {
    const accepted: Socket[] = []
    const server = await startTcpServer(socket => {
      accepted.push(socket)
      handler(socket)
    })
    servers.push(server)
    const pair = await startTrustedPair({ a: { env }, b: { env } })
    pairs.push(pair)
    await expose(pair.a, 'svc', server.target)
    const { port } = await forward(pair.b, pair.aId, 'svc')
    return { pair, port, accepted }
  }

  /**
   * A service socket that has read its FIN hears of a reset only when it writes (as
   * with any TCP stack): write, and expect the connection to fail.
   * Also checks that nothing of the tunnel is left: the next writes fail.
   */
  async function assertReset (socket: Socket, closed: Promise<Closing>, what: string): Promise<void> {
    // the first write may go out before the RST comes back: it is the next one that fails
    const writes = setInterval(() => { if (!socket.destroyed) socket.write('are you there?') }, 200)
    const ending = await within(`${what} to fail on its next writes`, NOTICE_MS, closed).finally(() => { clearInterval(writes) })
    assert.notEqual(ending.error, undefined, `${what} hears a reset, not a clean end`)
  }

  /** The service's side of the next connection (the up-probe of `expose` comes before). */
  async function nextAccepted (accepted: Socket[], bytes: number): Promise<Socket> {
    return waitFor('the service to receive the first bytes', async () => accepted.find(socket => socket.bytesRead >= bytes), NOTICE_MS, 50)
  }

  it('a stopping forwarding daemon resets its tunnels and stops at once, its half-closed ones included', async () => {
    const { pair, port, accepted } = await setUp(socket => { socket.resume() })
    const client = await connectTcp(port)
    const clientClosed = closing(client)
    client.end('request, then FIN')
    const service = await nextAccepted(accepted, 5)
    const serviceClosed = closing(service)
    await waitFor('the tunnel to be active on A', async () => (await serviceView(pair.a, 'svc')).active === 1, NOTICE_MS)
    const stopping = Date.now()
    assert.equal(await pair.b.stop(), 0, 'B stops cleanly')
    assert.ok(Date.now() - stopping < 5_000, `B stops at once, its tunnels reset (${Date.now() - stopping} ms)`)
    assert.notEqual((await within('the client to be reset', NOTICE_MS, clientClosed)).error, undefined, 'the client hears a reset')
    await waitFor('A to count the tunnel closed', async () => (await serviceView(pair.a, 'svc')).active === 0, NOTICE_MS)
    await assertReset(service, serviceClosed, 'the service\'s half-closed connection')
  })

  it('a half-closed tunnel is reset when its connection closes gracefully, with no stream reset', async () => {
    const { pair, accepted } = await setUp(socket => { socket.resume() })
    const opener = await startInProcessNode(() => true)
    try {
      await trust(pair.a, opener.node.peerId.toString())
      const stream = await opener.node.dialProtocol(multiaddr((await pair.a.id()).addresses[0]!), TUNNEL_PROTOCOL)
      stream.send(encodeRequest({ service: 'svc', vni: 0, protocolType: ProtocolType.TCP }))
      stream.send(new TextEncoder().encode('request, then FIN'))
      await stream.close()
      const { envelope } = await readEnvelope(stream, responseDecoder(), NOTICE_MS)
      assert.equal(envelope.status, Status.OK)
      const service = await nextAccepted(accepted, 5)
      const serviceClosed = closing(service)
      await waitFor('the tunnel to be active on A', async () => (await serviceView(pair.a, 'svc')).active === 1, NOTICE_MS)
      // libp2p ends the streams of a connection closed this way as if the other side had sent a FIN
      await Promise.all(opener.node.getConnections().map(async connection => connection.close()))
      await waitFor('A to count the tunnel closed', async () => (await serviceView(pair.a, 'svc')).active === 0, NOTICE_MS)
      await assertReset(service, serviceClosed, 'the service\'s half-closed connection')
    } finally {
      await opener.stop()
    }
  })

  it('a half-closed tunnel is reset when the forwarding daemon is killed', async () => {
    const { pair, port, accepted } = await setUp(socket => { socket.resume() })
    const client = await connectTcp(port)
    client.on('error', () => {})
    client.end('request, then FIN')
    const service = await nextAccepted(accepted, 5)
    const serviceClosed = closing(service)
    await waitFor('the tunnel to be active on A', async () => (await serviceView(pair.a, 'svc')).active === 1, NOTICE_MS)
    await pair.b.stop('SIGKILL')
    await waitFor('A to count the tunnel closed', async () => (await serviceView(pair.a, 'svc')).active === 0, NOTICE_MS)
    await assertReset(service, serviceClosed, 'the service\'s half-closed connection')
  })

  it('a tunnel paused with bytes buffered is reset when the forwarding daemon is killed', async () => {
    // the service reads once, then never again: A's socket fills, A pauses the stream with bytes in it
    const { pair, port, accepted } = await setUp(socket => { socket.once('data', () => { socket.pause() }) })
    const client = await connectTcp(port)
    client.on('error', () => {})
    const sending = writeChunks(client, deterministicChunks('paused', 64 * MiB, 64 * KiB), { end: false })
    sending.catch(() => {})
    const service = await nextAccepted(accepted, 1)
    const serviceClosed = closing(service)
    await waitFor('A to hold buffered bytes (its bytesIn stops growing)', async () => {
      const before = (await serviceView(pair.a, 'svc')).bytesIn
      await sleep(300)
      const now = (await serviceView(pair.a, 'svc')).bytesIn
      return now > 1 * MiB && now === before
    }, NOTICE_MS, 100)
    await pair.b.stop('SIGKILL')
    client.destroy()
    await waitFor('A to count the tunnel closed', async () => (await serviceView(pair.a, 'svc')).active === 0, NOTICE_MS)
    await assertReset(service, serviceClosed, 'the service\'s connection')
  })

  describe(`with tunnels.halfClosedIdleSeconds = ${IDLE_SECONDS}`, () => {
    let pair: Pair
    let port: number
    let accepted: Socket[]
    const mode = { closeAfter: 0 }
    let closes = 0

    it('a half-closed tunnel that carries nothing is reset both ways after the idle timeout, and not before', async () => {
      ({ pair, port, accepted } = await setUp(socket => {
        if (mode.closeAfter === 0) {
          socket.resume()
          return
        }
        // reads closeAfter bytes, then stops reading and closes: every other one with a RST,
        // the others with close() (a FIN when nothing is unread yet, for the kernel to
        // answer the client's next bytes with a RST), as iperf3's server does
        const reset = closes++ % 2 === 0
        let read = 0
        socket.on('data', chunk => {
          read += chunk.length
          if (read >= mode.closeAfter) {
            socket.pause()
            socket.removeAllListeners('data')
            if (reset) socket.resetAndDestroy()
            else socket.destroy()
          }
        })
      }, { AGENTMESH_TUNNELS_HALF_CLOSED_IDLE_SECONDS: String(IDLE_SECONDS) }))
      const client = await connectTcp(port)
      const clientClosed = closing(client)
      client.end('request, then FIN')
      const service = await nextAccepted(accepted, 5)
      const serviceClosed = closing(service)
      const started = Date.now()
      // an open (not half-closed) tunnel is never timed out: this one is half-closed
      const atClient = await within(`the client to be reset (still open ${IDLE_SECONDS * 1000 + NOTICE_MS} ms after its FIN)`,
        IDLE_SECONDS * 1000 + NOTICE_MS, clientClosed)
      assert.ok(atClient.at - started >= IDLE_SECONDS * 1000 - 200, `not before the idle timeout (${atClient.at - started} ms)`)
      assert.notEqual(atClient.error, undefined, 'the client hears a reset, not a clean end')
      await assertReset(service, serviceClosed, 'the service\'s connection')
      await waitFor('both daemons to count the tunnel closed', async () =>
        (await serviceView(pair.a, 'svc')).active === 0 && (await forwardView(pair.b, port)).active === 0, NOTICE_MS)
    })

    it('an open tunnel with nothing to carry is not timed out', async () => {
      const client = await connectTcp(port)
      const clientClosed = closing(client)
      client.write('hello')
      await nextAccepted(accepted, 5)
      const early = await Promise.race([clientClosed, sleep(IDLE_SECONDS * 1000 + 1500).then(() => undefined)])
      assert.equal(early, undefined, 'the connection is still open')
      client.destroy()
      await waitFor('the tunnel to close', async () => (await serviceView(pair.a, 'svc')).active === 0, NOTICE_MS)
    })

    it(`${CLOSE_WHILE_SENDING} clients sending to a service that stops reading and resets: each hears a reset, none a clean end, none stays active`, async () => {
      mode.closeAfter = 32 * KiB
      const endings = await Promise.all(Array.from({ length: CLOSE_WHILE_SENDING }, async (_, index): Promise<Closing> => {
        const client = await connectTcp(port)
        const closed = closing(client)
        await writeChunks(client, deterministicChunks(`upload ${index}`, 1 * MiB, 16 * KiB))
        return within('the client connection to close', NOTICE_MS * 3, closed)
      }))
      const clean = endings.filter(ending => ending.error == null)
      assert.equal(clean.length, 0, `${clean.length} of ${CLOSE_WHILE_SENDING} clients were told a clean end although the service dropped their upload`)
      await waitFor('no tunnel active on either daemon', async () =>
        (await serviceView(pair.a, 'svc')).active === 0 && (await forwardView(pair.b, port)).active === 0, NOTICE_MS)
    })
  })
})
