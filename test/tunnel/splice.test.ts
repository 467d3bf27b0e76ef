/**
 * pumpSocketToStream's chunking, between a real loopback TCP connection and a real yamux
 * stream (over an in-memory connection, so that its frames can be read): bulk reads
 * leave in whole STREAM_CHUNK_BYTES frames, and nothing waits for more data than the
 * turn of the event loop that read it.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { STREAM_CHUNK_BYTES } from '../../protocols/tunnel/constants.ts'
import { pumpSocketToStream } from '../../protocols/tunnel/splice.ts'
import { capYamuxFrames } from '../../src/node/patches/yamux-frame-size.ts'
import { watchFramesSentOn } from '../helpers/muxer.ts'
import { connectTcp, startTcpServer } from '../helpers/services/tcp.ts'
import { within } from '../helpers/services/within.ts'
import type { FramesSent } from '../helpers/muxer.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { Stream, StreamMuxer } from '@libp2p/interface'
import type { Socket } from 'node:net'

const MiB = 2 ** 20

interface Pumped {
  /** the client end of the TCP connection whose server end is pumped into the stream */
  client: Socket
  /** the other end of the stream */
  inbound: Stream
  frames: FramesSent
  counted: { bytes: number }
  /** the server end, pumped into the stream */
  server: Socket
}

describe('pumpSocketToStream: socket reads into stream chunks', () => {
  let server: TcpService
  const accepted: Socket[] = []
  const muxers: StreamMuxer[] = []

  before(async () => {
    capYamuxFrames(STREAM_CHUNK_BYTES)
    server = await startTcpServer(socket => { accepted.push(socket) })
  })

  after(async () => {
    for (const muxer of muxers) muxer.abort(new Error('test over'))
    for (const socket of accepted) socket.destroy()
    await server.close()
  })

  async function pumped (): Promise<Pumped> {
    const [outbound, inbound] = multiaddrConnectionPair()
    const frames = watchFramesSentOn(outbound)
    const opener = yamux({ enableKeepAlive: false })().createStreamMuxer(outbound)
    const responder = yamux({ enableKeepAlive: false })().createStreamMuxer(inbound)
    muxers.push(opener, responder)
    const inboundStream = new Promise<Stream>(resolve => responder.addEventListener('stream', ({ detail }) => { resolve(detail) }, { once: true }))
    const client = await connectTcp(server.port)
    const serverSide = await within('the accepted socket', 5_000, (async () => {
      for (let i = 0; i < 100 && accepted.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
      return accepted.shift() as Socket
    })())
    const counted = { bytes: 0 }
    pumpSocketToStream(serverSide, await opener.createStream(), bytes => { counted.bytes += bytes })
    return { client, inbound: await within('the inbound stream', 5_000, inboundStream), frames, counted, server: serverSide }
  }

  function receive (stream: Stream, until: (bytes: number) => boolean): Promise<Buffer> {
    const chunks: Buffer[] = []
    let bytes = 0
    return new Promise((resolve, reject) => {
      const done = (): void => { resolve(Buffer.concat(chunks)) }
      stream.addEventListener('message', event => {
        for (const chunk of event.data instanceof Uint8Array ? [event.data] : event.data) {
          chunks.push(Buffer.from(chunk))
          bytes += chunk.byteLength
        }
        if (until(bytes)) done()
      })
      stream.addEventListener('remoteCloseWrite', done, { once: true })
      stream.addEventListener('close', event => { if (event.error != null) reject(event.error) }, { once: true })
    })
  }

  it('8 MiB written at once: intact, no frame larger than a chunk', async () => {
    const { client, inbound, frames, counted } = await pumped()
    const payload = randomBytes(8 * MiB)
    const received = receive(inbound, () => false)
    client.end(payload)
    const bytes = await within('8 MiB through the stream', 20_000, received)
    assert.deepEqual(createHash('sha256').update(bytes).digest(), createHash('sha256').update(payload).digest())
    assert.equal(counted.bytes, payload.byteLength)
    assert.ok(Math.max(...frames.dataBytes) <= STREAM_CHUNK_BYTES)
  })

  it('four 64 KiB reads in one turn of the event loop: four whole chunks, then the 116-byte remainder at the end of the turn', async () => {
    const { client, inbound, frames, server: serverSide } = await pumped()
    const reads = Array.from({ length: 4 }, () => randomBytes(64 * 1024))
    const received = receive(inbound, bytes => bytes >= 4 * 64 * 1024)
    // as libuv delivers back-to-back reads of a busy socket: 'data' events with nothing in between
    for (const read of reads) serverSide.emit('data', read)
    assert.deepEqual(frames.dataBytes, Array(4).fill(STREAM_CHUNK_BYTES), 'the whole chunks leave at once')
    assert.deepEqual(await within('the reads', 5_000, received), Buffer.concat(reads))
    assert.deepEqual(frames.dataBytes, [...Array(4).fill(STREAM_CHUNK_BYTES), 4 * 64 * 1024 - 4 * STREAM_CHUNK_BYTES])
    client.destroy()
  })

  it('a write of a chunk and a bit, with the socket left open: all of it arrives, the bit without waiting for more', async () => {
    const { client, inbound } = await pumped()
    const payload = randomBytes(STREAM_CHUNK_BYTES + 1000)
    const received = receive(inbound, bytes => bytes >= payload.byteLength)
    client.write(payload)
    assert.deepEqual(await within('the whole write', 5_000, received), payload)
    client.destroy()
  })

  it('small writes go out as they are read', async () => {
    const { client, inbound, frames } = await pumped()
    const received = receive(inbound, bytes => bytes >= 5)
    client.write('hello')
    assert.equal((await within('hello', 5_000, received)).toString(), 'hello')
    assert.deepEqual(frames.dataBytes, [5])
    client.destroy()
  })
})
