/**
 * Plain TCP fixtures: a server that runs a test's handler on each connection
 * and counts them, an echo server, and the few socket moves the stream tests
 * need (write with backpressure, read to EOF while hashing, see how a
 * connection ends). Everything listens on 127.0.0.1 only.
 */

import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { Digest } from './data.ts'
import type { Server, Socket } from 'node:net'

export interface TcpService {
  readonly server: Server
  readonly port: number
  /** `127.0.0.1:<port>`, the form `agentmesh expose` takes */
  readonly target: string
  /** connections accepted so far */
  readonly connections: number
  close(): Promise<void>
}

/**
 * A TCP server on 127.0.0.1 that runs `handler` for each connection, with
 * half-open connections allowed (a client's FIN does not end our side) and
 * socket errors swallowed (a reset is something the tests provoke).
 */
export async function startTcpServer (handler: (socket: Socket) => void, port = 0): Promise<TcpService> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer({ allowHalfOpen: true, noDelay: true }, socket => {
    connections++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
    handler(socket)
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  const bound = (server.address() as { port: number }).port
  return {
    server,
    port: bound,
    target: `127.0.0.1:${bound}`,
    get connections () { return connections },
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** Echoes every byte back and ends its side when the client ends its own. */
export async function startEchoServer (port = 0): Promise<TcpService> {
  return startTcpServer(socket => { socket.pipe(socket) }, port)
}

/** A client connection to 127.0.0.1:port that stays half-open, failing after `timeoutMs`. */
export async function connectTcp (port: number, timeoutMs = 10_000): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true })
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no connection to 127.0.0.1:${port} within ${timeoutMs} ms`)))
  try {
    await once(socket, 'connect')
  } finally {
    socket.setTimeout(0)
  }
  return socket
}

/**
 * Writes every chunk, waiting for 'drain' whenever the socket says so, then
 * ends the write side if `end`. Stops early (returning the bytes accepted so
 * far) if the socket is destroyed or `signal` aborts. `progress.bytes` follows
 * the bytes accepted as they go.
 */
export async function writeChunks (socket: Socket, chunks: Iterable<Buffer>, options: { end?: boolean, signal?: AbortSignal, progress?: { bytes: number } } = {}): Promise<number> {
  let written = 0
  for (const chunk of chunks) {
    if (socket.destroyed || socket.writableEnded || options.signal?.aborted === true) return written
    written += chunk.length
    if (options.progress != null) options.progress.bytes += chunk.length
    if (!socket.write(chunk)) {
      await new Promise<void>(resolve => {
        const done = (): void => {
          socket.off('drain', done)
          socket.off('close', done)
          options.signal?.removeEventListener('abort', done)
          resolve()
        }
        socket.on('drain', done)
        socket.on('close', done)
        options.signal?.addEventListener('abort', done)
      })
    }
  }
  if (options.end !== false && !socket.destroyed) socket.end()
  return written
}

/** Hashes what arrives until EOF; rejects if the connection is reset or closed without one. */
export async function digestUntilEnd (socket: Socket, timeoutMs: number): Promise<Digest> {
  const digest = new Digest()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { fail(new Error(`no EOF within ${timeoutMs} ms (received ${digest.bytes} bytes)`)) }, timeoutMs)
    const fail = (err: Error): void => {
      clearTimeout(timer)
      reject(err)
    }
    socket.on('data', chunk => { digest.update(chunk) })
    socket.once('end', () => {
      clearTimeout(timer)
      resolve(digest)
    })
    socket.once('error', err => { fail(new Error(`connection failed after ${digest.bytes} bytes: ${err.message}`)) })
    socket.once('close', () => { fail(new Error(`connection closed without EOF after ${digest.bytes} bytes`)) })
  })
}

export interface Closing {
  /** the socket saw its peer's FIN before it closed */
  ended: boolean
  /** the error it closed with (a reset shows as ECONNRESET or EPIPE), if any */
  error?: string
  /** when it closed (Date.now()) */
  at: number
}

/** Resolves when `socket` closes, saying whether it saw a FIN and which error it closed with. Call it right after the socket exists. */
export async function closing (socket: Socket): Promise<Closing> {
  let ended = false
  let error: string | undefined
  socket.once('end', () => { ended = true })
  socket.on('error', err => { error ??= (err as NodeJS.ErrnoException).code ?? err.message })
  if (!socket.closed) await new Promise(resolve => socket.once('close', resolve))
  return { ended, error, at: Date.now() }
}

export interface Ending {
  /** bytes received before the end */
  bytes: number
  /** 'end': a FIN; 'error': a reset or another socket error; 'timeout': still open at the deadline */
  how: 'end' | 'error' | 'timeout'
  error?: string
  ms: number
}

/**
 * Connects, writes `probe`, and watches how the connection ends: for a
 * tunnel that must refuse, the test wants no bytes back and an end well before
 * the deadline. The socket is destroyed in every case.
 */
export async function watchEnding (port: number, probe: Buffer, timeoutMs: number): Promise<Ending> {
  const started = Date.now()
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: false })
  let bytes = 0
  socket.on('data', chunk => { bytes += chunk.length })
  socket.once('connect', () => { socket.write(probe, () => {}) })
  try {
    return await new Promise<Ending>(resolve => {
      const timer = setTimeout(() => { resolve({ bytes, how: 'timeout', ms: Date.now() - started }) }, timeoutMs)
      socket.once('end', () => {
        clearTimeout(timer)
        resolve({ bytes, how: 'end', ms: Date.now() - started })
      })
      socket.once('error', err => {
        clearTimeout(timer)
        resolve({ bytes, how: 'error', error: err.message, ms: Date.now() - started })
      })
    })
  } finally {
    socket.destroy()
  }
}

/** Sends `message` on a new connection, ends, and returns everything received until EOF. */
export async function roundTrip (port: number, message: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  const socket = await connectTcp(port, timeoutMs)
  try {
    const chunks: Buffer[] = []
    socket.on('data', chunk => chunks.push(chunk))
    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no EOF within ${timeoutMs} ms`)) }, timeoutMs)
      socket.once('end', () => { clearTimeout(timer); resolve() })
      socket.once('error', err => { clearTimeout(timer); reject(err) })
      socket.once('close', () => { clearTimeout(timer); reject(new Error('connection closed without EOF')) })
    })
    socket.end(message)
    await ended
    return Buffer.concat(chunks)
  } finally {
    socket.destroy()
  }
}
