import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import { coalescingTcpWrites } from '../../src/node/patches/coalescing-tcp-writes.ts'
import { startTcpServer } from '../helpers/services/tcp.ts'
import type { MessageStream, MultiaddrConnection, Upgrader } from '@libp2p/interface'
import type { Socket } from 'node:net'

/** A TCP connection made by @libp2p/tcp itself, taken before any upgrade, with a count of its socket's writes. */
async function libp2pTcpConnection (port: number): Promise<{ connection: MultiaddrConnection, writes: { single: number, vectored: number[] } }> {
  let connection: MultiaddrConnection | undefined
  const upgrader = { upgradeOutbound: async (maConn: MultiaddrConnection) => { connection = maConn } } as unknown as Upgrader
  await tcp()({ logger: defaultLogger() } as any).dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}`), { upgrader, signal: AbortSignal.timeout(5_000) })
  if (connection == null) throw new Error('@libp2p/tcp did not hand over a connection')
  const socket = (connection as unknown as { socket: Socket & { _write: Function, _writev: Function } }).socket
  const writes = { single: 0, vectored: [] as number[] }
  const { _write: write, _writev: writev } = socket
  socket._write = function (...args: unknown[]) { writes.single++; return write.apply(this, args) }
  socket._writev = function (chunks: unknown[], ...rest: unknown[]) { writes.vectored.push(chunks.length); return writev.call(this, chunks, ...rest) }
  return { connection, writes }
}

/** An encrypter that hands the connection back: what coalescingTcpWrites wraps is all that is under test. */
const passThrough = () => ({
  secureInbound: async (connection: MessageStream) => connection,
  secureOutbound: async (connection: MessageStream) => connection
})

describe('coalescingTcpWrites: a message of several buffers leaves a libp2p TCP connection in one write', () => {
  const message = [randomBytes(2), randomBytes(40_000), randomBytes(16)]
  const received: Buffer[] = []
  let server: Awaited<ReturnType<typeof startTcpServer>>

  before(async () => {
    server = await startTcpServer(socket => { socket.on('data', chunk => received.push(chunk)) })
  })

  after(async () => { await server?.close() })

  // the patch, once installed, stays for the process: this test runs first, or alone
  it('as found: @libp2p/tcp writes each buffer on its own', async () => {
    const { connection, writes } = await libp2pTcpConnection(server.port)
    try {
      connection.send(new Uint8ArrayList(...message))
      assert.equal(writes.single + writes.vectored.length, 3, `writes: ${JSON.stringify(writes)}`)
    } finally {
      connection.abort(new Error('test over'))
    }
  })

  it('once an encrypter wrapped by coalescingTcpWrites has seen a TCP connection: one writev of all buffers, bytes intact', async () => {
    const before = received.length
    const { connection, writes } = await libp2pTcpConnection(server.port)
    try {
      const secured = await coalescingTcpWrites(passThrough)(undefined).secureOutbound(connection)
      assert.equal(secured, connection, 'the encrypter still gets the connection itself')
      connection.send(new Uint8ArrayList(...message))
      assert.deepEqual(writes, { single: 0, vectored: [3] })
      const expected = Buffer.concat(message)
      for (let i = 0; i < 500 && Buffer.concat(received.slice(before)).byteLength < expected.byteLength; i++) await new Promise(resolve => setTimeout(resolve, 10))
      assert.deepEqual(Buffer.concat(received.slice(before)), expected)
    } finally {
      connection.abort(new Error('test over'))
    }
  })
})
