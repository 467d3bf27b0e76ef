/**
 * The TCP semantics a tunnelled connection must keep: half-close in each
 * direction, full duplex at full speed, backpressure end to end so a slow
 * reader does not make either daemon buffer what a fast writer sends, and a
 * reset on either side resetting the other. Plain node:net clients and
 * servers on both ends; one pair of daemons for all.
 */

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitFor } from '../helpers/daemon.ts'
import { Digest, KiB, MiB, deterministicChunks, deterministicSha256 } from '../helpers/services/data.ts'
import { expose, forward, serviceView, startTrustedPair } from '../helpers/services/mesh.ts'
import { RssSampler, rssBytes } from '../helpers/services/rss.ts'
import { closing, connectTcp, digestUntilEnd, roundTrip, startEchoServer, startTcpServer, writeChunks } from '../helpers/services/tcp.ts'
import { within } from '../helpers/services/within.ts'
import type { Forward, Pair } from '../helpers/services/mesh.ts'
import type { Closing, TcpService } from '../helpers/services/tcp.ts'
import type { Socket } from 'node:net'

const HALF = 1 * MiB
const DUPLEX = 64 * MiB
const FLOOD = 256 * MiB
const SLOW_RATE = 16 * KiB
const SLOW_SECONDS = 10
const RSS_HEADROOM = 64 * MiB
const RESET_MS = 5_000

/** What a server's handler reports once it is done with a connection. */
interface Seen { received: Digest, wrote: number }

/** One connection a server accepted. */
interface Accepted {
  /** the server's end */
  socket: Socket
  /** bytes the handler has written so far */
  progress: { bytes: number }
  closed: Promise<Closing>
  done: Promise<Seen>
}

describe('TCP semantics through a tunnel', () => {
  let pair: Pair | undefined
  const servers: TcpService[] = []
  const accepted = new Map<string, Accepted[]>()
  const forwards = new Map<string, Forward>()

  /** Starts a TCP server that runs `handler` per connection, exposes it on A and forwards to it from B. */
  async function service (name: string, handler: (socket: Socket, progress: { bytes: number }) => Promise<Seen>): Promise<void> {
    const list: Accepted[] = []
    accepted.set(name, list)
    const server = await startTcpServer(socket => {
      const progress = { bytes: 0 }
      const closed = closing(socket)
      const done = handler(socket, progress)
      // `expose` and `services` connect to the target to report it up: those connections fail their handler, unobserved
      done.catch(() => {})
      list.push({ socket, progress, closed, done })
    })
    servers.push(server)
    await expose(pair!.a, name, server.target)
    forwards.set(name, await forward(pair!.b, pair!.aId, name))
  }

  function port (name: string): number {
    return forwards.get(name)!.port
  }

  /**
   * The next connection the server of `name` accepts. Call it before
   * connecting: the up-probes of `expose` and `services` come before.
   */
  function nextAccepted (name: string): () => Promise<Accepted> {
    const list = accepted.get(name)!
    const index = list.length
    return async () => {
      await waitFor(`${name} to accept the connection`, async () => list.length > index, 10_000, 50)
      return list[index]!
    }
  }

  before(async () => {
    pair = await startTrustedPair()
    const echo = await startEchoServer()
    servers.push(echo)
    await expose(pair.a, 'echo', echo.target)
    forwards.set('echo', await forward(pair.b, pair.aId, 'echo'))

    // reads to EOF, and only then answers with HALF bytes and its own FIN
    await service('reply-after-eof', async (socket, progress) => {
      const received = await digestUntilEnd(socket, 60_000)
      const wrote = await writeChunks(socket, deterministicChunks('reply after eof', HALF), { progress })
      return { received, wrote }
    })
    // writes HALF bytes and its FIN at once, then reads what the client sends after that, until the client's FIN
    await service('eof-first', async (socket, progress) => {
      const reading = digestUntilEnd(socket, 60_000)
      reading.catch(() => {})
      const wrote = await writeChunks(socket, deterministicChunks('eof first', HALF), { progress })
      return { received: await reading, wrote }
    })
    // writes DUPLEX bytes while it reads, as fast as the connection takes them
    await service('duplex', async (socket, progress) => {
      const reading = digestUntilEnd(socket, 120_000)
      reading.catch(() => {})
      const wrote = await writeChunks(socket, deterministicChunks('duplex down', DUPLEX), { progress })
      return { received: await reading, wrote }
    })
    // tries to write FLOOD bytes; stops when the connection goes away
    await service('flood', async (socket, progress) => {
      const gone = new AbortController()
      socket.once('close', () => { gone.abort() })
      socket.resume()
      const wrote = await writeChunks(socket, deterministicChunks('flood', FLOOD, 64 * KiB), { signal: gone.signal, progress })
      return { received: new Digest(), wrote }
    })
    // reads and holds the connection until it closes
    await service('hold', async socket => {
      socket.resume()
      await closing(socket)
      return { received: new Digest(), wrote: 0 }
    })

    // the tunnel carries a first connection before any figure is taken
    await waitFor('an echo through the tunnel', async () => (await roundTrip(port('echo'), Buffer.from('warm up'), 5_000)).toString() === 'warm up', 30_000, 500)
  })

  after(async () => {
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), ...servers.map(async server => server.close())])
  })

  it('half-close: the client sends 1 MiB and its FIN, and still receives the whole reply written after the server saw EOF', async () => {
    const server = nextAccepted('reply-after-eof')
    const socket = await connectTcp(port('reply-after-eof'))
    try {
      const reading = digestUntilEnd(socket, 60_000)
      const sent = await writeChunks(socket, deterministicChunks('half-close up', HALF))
      assert.equal(sent, HALF)
      const reply = await reading
      assert.equal(reply.bytes, HALF, 'the whole reply')
      assert.equal(reply.hex(), deterministicSha256('reply after eof', HALF))
      const { received } = await within('the server to finish', 10_000, (await server()).done)
      assert.equal(received.bytes, HALF, 'the server read the whole request before EOF')
      assert.equal(received.hex(), deterministicSha256('half-close up', HALF))
    } finally {
      socket.destroy()
    }
  })

  it('half-close the other way: the server sends 1 MiB and its FIN first, and still receives the client\'s 1 MiB after that', async () => {
    const server = nextAccepted('eof-first')
    const socket = await connectTcp(port('eof-first'))
    const closed = closing(socket)
    try {
      const first = await digestUntilEnd(socket, 60_000)
      assert.equal(first.bytes, HALF)
      assert.equal(first.hex(), deterministicSha256('eof first', HALF))
      assert.ok(!socket.destroyed && socket.writable, 'the client can still write after the server\'s FIN')
      await writeChunks(socket, deterministicChunks('after server eof', HALF))
      const { received } = await within('the server to finish', 30_000, (await server()).done)
      assert.equal(received.bytes, HALF)
      assert.equal(received.hex(), deterministicSha256('after server eof', HALF))
      const ending = await within('the connection to close once both sides sent their FIN', 10_000, closed)
      assert.equal(ending.error, undefined, 'closed cleanly')
    } finally {
      socket.destroy()
    }
  })

  it(`slow reader: ${SLOW_RATE / KiB} KiB/s from a service writing ${FLOOD / MiB} MiB keeps both daemons under idle RSS + ${RSS_HEADROOM / MiB} MiB`, async t => {
    const daemons = [pair!.a, pair!.b]
    const idle = await Promise.all(daemons.map(async daemon => rssBytes(daemon.pid)))
    const sampler = new RssSampler(daemons.map(daemon => daemon.pid))
    const server = nextAccepted('flood')
    const socket = await connectTcp(port('flood'))
    let read = 0
    let wrote = 0
    try {
      socket.pause()
      // 4 reads a second of SLOW_RATE / 4 bytes, for SLOW_SECONDS: bounded in count
      for (let tick = 0; tick < SLOW_SECONDS * 4; tick++) {
        await sleep(250)
        let budget = SLOW_RATE / 4
        let chunk: Buffer | null
        while (budget > 0 && (chunk = socket.read(Math.min(budget, socket.readableLength)) as Buffer | null) != null) {
          read += chunk.length
          budget -= chunk.length
        }
      }
      wrote = (await server()).progress.bytes
    } finally {
      socket.destroy()
    }
    const peaks = sampler.stop()
    t.diagnostic(`read ${read} bytes; the service wrote ${(wrote / MiB).toFixed(1)} MiB; RSS idle/peak: ${daemons.map((daemon, index) =>
      `${(idle[index]! / MiB).toFixed(1)}/${((peaks.get(daemon.pid) ?? 0) / MiB).toFixed(1)} MiB`).join(', ')}`)
    assert.ok(read > SLOW_RATE * SLOW_SECONDS / 2, `the reader got data (${read} bytes)`)
    assert.ok(wrote < FLOOD, `the service was held back (it wrote ${wrote} of ${FLOOD} bytes)`)
    daemons.forEach((daemon, index) => {
      const peak = peaks.get(daemon.pid) ?? 0
      const name = index === 0 ? 'A (exposing)' : 'B (forwarding)'
      assert.ok(peak < idle[index]! + RSS_HEADROOM,
        `${name}: peak RSS ${(peak / MiB).toFixed(1)} MiB, idle ${(idle[index]! / MiB).toFixed(1)} MiB, limit idle + ${RSS_HEADROOM / MiB} MiB (the service wrote ${(wrote / MiB).toFixed(1)} MiB)`)
    })
  })

  it(`full duplex: ${DUPLEX / MiB} MiB each way at once on one connection, byte-exact`, async () => {
    const server = nextAccepted('duplex')
    const socket = await connectTcp(port('duplex'))
    try {
      const [down, sent] = await Promise.all([
        digestUntilEnd(socket, 120_000),
        writeChunks(socket, deterministicChunks('duplex up', DUPLEX))
      ])
      assert.equal(sent, DUPLEX)
      assert.equal(down.bytes, DUPLEX, 'bytes from the server')
      assert.equal(down.hex(), deterministicSha256('duplex down', DUPLEX))
      const seen = await within('the server to finish', 30_000, (await server()).done)
      assert.equal(seen.wrote, DUPLEX)
      assert.equal(seen.received.bytes, DUPLEX, 'bytes from the client')
      assert.equal(seen.received.hex(), deterministicSha256('duplex up', DUPLEX))
    } finally {
      socket.destroy()
    }
  })

  it('a reset by the client resets the service\'s connection', async () => {
    const server = nextAccepted('hold')
    const socket = await connectTcp(port('hold'))
    socket.on('error', () => {})
    socket.write('hello')
    const { socket: serverSocket, closed } = await server()
    await waitFor('the service to receive the first bytes', async () => serverSocket.bytesRead >= 5, 10_000, 50)
    socket.resetAndDestroy()
    const ending = await within(`the service's connection to close (it is still open ${RESET_MS} ms after the client's reset)`, RESET_MS, closed)
    assert.notEqual(ending.error, undefined, `the service sees a reset, not a FIN (ended: ${ending.ended})`)
  })

  it('a client that goes away with unread data, while the service is blocked writing, resets the service\'s connection', async () => {
    const server = nextAccepted('flood')
    const socket = await connectTcp(port('flood'))
    socket.pause()
    const { progress, closed } = await server()
    // let backpressure build all the way to the service: it stops writing
    let last = -1
    for (let i = 0; i < 50 && progress.bytes !== last; i++) {
      last = progress.bytes
      await sleep(200)
    }
    socket.destroy()
    const ending = await within(`the service's connection to close (it is still open ${RESET_MS} ms after the client went away; it wrote ${(progress.bytes / MiB).toFixed(1)} MiB)`, RESET_MS, closed)
    assert.notEqual(ending.error, undefined, `the service sees a reset, not a FIN (ended: ${ending.ended})`)
  })

  it('a reset by the service resets the client\'s connection', async () => {
    const server = nextAccepted('hold')
    const socket = await connectTcp(port('hold'))
    const closed = closing(socket)
    socket.write('reset me')
    const { socket: serverSocket } = await server()
    await waitFor('the service to receive the first bytes', async () => serverSocket.bytesRead >= 8, 10_000, 50)
    serverSocket.resetAndDestroy()
    const ending = await within(`the client's connection to close (it is still open ${RESET_MS} ms after the service's reset)`, RESET_MS, closed)
    assert.notEqual(ending.error, undefined, `the client sees a reset, not a FIN (ended: ${ending.ended})`)
  })

  it('the service counters saw every byte of the duplex connection', async () => {
    const view = await waitFor('the duplex connection to be counted as closed', async () => {
      const entry = await serviceView(pair!.a, 'duplex')
      return entry.active === 0 ? entry : undefined
    })
    assert.equal(view.connections, 1)
    assert.equal(view.bytesIn, DUPLEX)
    assert.equal(view.bytesOut, DUPLEX)
  })
})
