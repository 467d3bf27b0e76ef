/**
 * An HTTP/1.1 server (node:http) for the tunnel tests, on 127.0.0.1:
 *
 * - `GET /blob`: the deterministic 32 MiB body named BLOB_SEED, with a
 *   Content-Length;
 * - `POST /sha256`: reads the body and answers `{ "sha256", "bytes" }`;
 * - `GET /hello?i=N`: answers `hello N` once `holdUntil` requests are in flight
 *   at the same time (or `holdMs` has passed), so a test can see that that
 *   many requests really were concurrent; `peakInFlight` keeps the maximum.
 */

import { once } from 'node:events'
import { createServer } from 'node:http'
import { Digest, MiB, deterministicBytes } from './data.ts'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

export const BLOB_SEED = 'agentmesh http blob'
export const BLOB_BYTES = 32 * MiB

export interface HttpService {
  readonly server: Server
  readonly port: number
  readonly target: string
  /** the most /hello requests held at the same time so far */
  readonly peakInFlight: number
  /** /hello requests answered so far */
  readonly helloAnswered: number
  close(): Promise<void>
}

export interface HttpServiceOptions {
  /** release held /hello requests once this many are in flight; default 1 (no hold) */
  holdUntil?: number
  /** hold /hello requests at most this long; default 10 s */
  holdMs?: number
}

export async function startHttpService (options: HttpServiceOptions = {}): Promise<HttpService> {
  const holdUntil = options.holdUntil ?? 1
  const holdMs = options.holdMs ?? 10_000
  const blob = deterministicBytes(BLOB_SEED, BLOB_BYTES)
  const sockets = new Set<Socket>()
  let held: Array<() => void> = []
  let inFlight = 0
  let peakInFlight = 0
  let helloAnswered = 0

  const release = (): void => {
    const waiting = held
    held = []
    for (const answer of waiting) answer()
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (req.method === 'GET' && url.pathname === '/blob') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length })
      res.end(blob)
    } else if (req.method === 'POST' && url.pathname === '/sha256') {
      const digest = new Digest()
      req.on('data', chunk => { digest.update(chunk) })
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ sha256: digest.hex(), bytes: digest.bytes }))
      })
    } else if (req.method === 'GET' && url.pathname === '/hello') {
      const body = `hello ${url.searchParams.get('i') ?? ''}\n`
      inFlight++
      peakInFlight = Math.max(peakInFlight, inFlight)
      let answered = false
      const answer = (): void => {
        if (answered) return
        answered = true
        clearTimeout(timer)
        inFlight--
        helloAnswered++
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      }
      const timer = setTimeout(answer, holdMs)
      held.push(answer)
      if (inFlight >= holdUntil) release()
      res.once('close', () => {
        if (!answered) {
          answered = true
          clearTimeout(timer)
          inFlight--
        }
      })
    } else {
      res.writeHead(404).end()
    }
  })
  server.keepAliveTimeout = 1_000
  server.on('connection', socket => {
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  return {
    server,
    port,
    target: `127.0.0.1:${port}`,
    get peakInFlight () { return peakInFlight },
    get helloAnswered () { return helloAnswered },
    async close () {
      release()
      for (const socket of sockets) socket.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
