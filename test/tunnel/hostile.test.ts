/**
 * Nothing a trusted peer sends can crash the daemon: every hostile request of the
 * envelope fixture corpus, sent on a real tunnel stream from an in-process libp2p node,
 * is answered with the status the corpus names (or reset), and the daemon goes on
 * serving real tunnels. Also: a wrong network and a silent stream get their statuses.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeRequest, ProtocolType, responseDecoder, Status } from '../../protocols/envelope/index.ts'
import { TUNNEL_PROTOCOL } from '../../protocols/tunnel/index.ts'
import { readEnvelope } from '../../protocols/tunnel/read-envelope.ts'
import { parseHexDump } from '../helpers/spec-corpus.ts'
import { TestDaemon } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { expose, forward, trust } from '../helpers/services/mesh.ts'
import { roundTrip, startEchoServer } from '../helpers/services/tcp.ts'
import type { MeshNode } from '../../src/node/mesh-node.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'
import type { TcpService } from '../helpers/services/tcp.ts'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'envelope')
/** the header timeout (5 s) plus a margin */
const ANSWER_TIMEOUT_MS = 10_000

interface Fixture { file: string, decoder: 'request' | 'response', status: keyof typeof Status }

describe('hostile tunnel requests from a trusted peer', () => {
  let a: TestDaemon
  let echo: TcpService
  let inProcess: InProcessNode
  let peer: MeshNode
  let aAddress: string

  /** Opens a tunnel stream to A, sends `bytes`, ends the stream, and returns the status A answers (or 'reset'). */
  async function answerTo (bytes: Uint8Array, end = true): Promise<number | 'reset'> {
    const stream = await peer.dialProtocol(multiaddr(aAddress), TUNNEL_PROTOCOL)
    if (bytes.byteLength > 0) stream.send(bytes)
    if (end) await stream.close().catch(() => {})
    try {
      const { envelope } = await readEnvelope(stream, responseDecoder(), ANSWER_TIMEOUT_MS)
      return envelope.status
    } catch {
      return 'reset'
    } finally {
      stream.abort(new Error('done'))
    }
  }

  before(async () => {
    echo = await startEchoServer()
    a = await TestDaemon.start()
    aAddress = (await a.id()).addresses[0] as string
    inProcess = await startInProcessNode(() => false)
    peer = inProcess.node
    await trust(a, peer.peerId.toString())
    await expose(a, 'echo', echo.target)
  })

  after(async () => {
    await inProcess?.stop()
    await Promise.all([a?.destroy(), echo?.close()])
  })

  it('answers every hostile request of the fixture corpus with its status, and stays up', async () => {
    const manifest: Fixture[] = JSON.parse(await readFile(join(FIXTURES, 'manifest.json'), 'utf8'))
    const requests = manifest.filter(fixture => fixture.decoder === 'request')
    assert.ok(requests.length > 20, 'the corpus has hostile requests')
    for (const fixture of requests) {
      const bytes = parseHexDump(await readFile(join(FIXTURES, fixture.file), 'utf8'))
      assert.equal(await answerTo(bytes), Status[fixture.status], `${fixture.file} is answered ${fixture.status}`)
    }
    assert.equal(a.process.exitCode, null, 'the daemon is still running')
  })

  it('answers a request for another network WRONG_NETWORK, and one for no service UNKNOWN_SERVICE', async () => {
    assert.equal(await answerTo(encodeRequest({ service: 'echo', vni: 77, protocolType: ProtocolType.TCP })), Status.WRONG_NETWORK)
    assert.equal(await answerTo(encodeRequest({ service: 'nope', vni: 0, protocolType: ProtocolType.TCP })), Status.UNKNOWN_SERVICE)
  })

  it('answers a stream that sends nothing BAD_ENVELOPE after the header timeout', async () => {
    assert.equal(await answerTo(new Uint8Array(0), false), Status.BAD_ENVELOPE)
  })

  it('still carries real tunnels afterwards', async () => {
    const b = await TestDaemon.start({ bootstrap: (await a.id()).addresses })
    try {
      const bId = (await b.id()).peerId
      await trust(a, bId)
      await trust(b, (await a.id()).peerId)
      const fwd = await forward(b, (await a.id()).peerId, 'echo')
      assert.equal((await roundTrip(fwd.port, Buffer.from('still here\n'))).toString(), 'still here\n')
    } finally {
      await b.destroy()
    }
  })
})
