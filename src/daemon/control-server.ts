import { once } from 'node:events'
import { createServer } from 'node:http'
import { unlink } from 'node:fs/promises'
import { listenOnUnixSocket } from '../state/unix-socket.ts'
import { API_PREFIX, ApiError, badRequest, notFound } from '../control/protocol.ts'
import type { Logger } from '../log/logger.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

/** What a route answers: one JSON document, or JSON lines as they come. */
export type RouteResult = unknown | JsonLines

export class JsonLines {
  readonly source: AsyncIterable<unknown>
  constructor (source: AsyncIterable<unknown>) {
    this.source = source
  }
}

export interface RouteRequest {
  body: Record<string, unknown>
  query: URLSearchParams
  /** aborts when the client goes away */
  signal: AbortSignal
}

/** Routes keyed `'GET /status'`, relative to the API prefix. */
export type Routes = Record<string, (request: RouteRequest) => Promise<RouteResult>>

/** Requests carry small JSON documents; anything larger is refused before it is read. */
const MAX_BODY_BYTES = 1024 * 1024

export interface ControlServerInit {
  /** the unix socket to listen on (mode 0600) */
  socketPath: string
  routes: Routes
}

export interface ControlServerComponents {
  log: Logger
}

/** The daemon's local API on a unix socket that only this user can open (mode 0600). */
export class ControlServer {
  private readonly server: Server
  private readonly socketPath: string
  private readonly components: ControlServerComponents

  constructor (components: ControlServerComponents, init: ControlServerInit) {
    this.socketPath = init.socketPath
    this.components = components
    this.server = createServer((req, res) => { void this.handle(init.routes, req, res) })
  }

  /** Listens on the socket; the caller holds the data directory's lock, so a socket left there is stale. */
  async start (): Promise<void> {
    const { replacedStale } = await listenOnUnixSocket(this.server, this.socketPath)
    if (replacedStale) this.components.log.info({ socket: this.socketPath }, 'replaced a stale control socket')
  }

  async stop (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
    await unlink(this.socketPath).catch(() => {})
  }

  private async handle (routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController()
    res.on('close', () => { controller.abort() })
    try {
      const url = new URL(req.url ?? '/', 'http://agentmesh')
      const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : undefined
      const route = path == null ? undefined : routes[`${req.method} ${path}`]
      if (route == null) throw notFound(`no such API call: ${req.method} ${url.pathname}`)
      const body = await readJsonBody(req)
      const result = await route({ body, query: url.searchParams, signal: controller.signal })
      if (result instanceof JsonLines) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        res.flushHeaders()
        for await (const line of result.source) {
          // a reader that stops reading holds the stream (bounded by the source), not the daemon's memory
          if (!res.write(`${JSON.stringify(line)}\n`)) await once(res, 'drain', { signal: controller.signal })
        }
        res.end()
      } else {
        sendJson(res, 200, result)
      }
    } catch (err: any) {
      // the client went away (a stream it stopped reading): nothing to answer, nothing wrong here
      if (controller.signal.aborted) return void res.destroy()
      const error = err instanceof ApiError ? err : new ApiError(500, 'INTERNAL', err.message)
      if (error.status >= 500) this.components.log.error({ err }, `control API ${req.method} ${req.url} failed`)
      if (res.headersSent) res.destroy()
      else sendJson(res, error.status, { error: { code: error.code, message: error.message } })
    }
  }
}

function sendJson (res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(`${JSON.stringify(value)}\n`)
}

async function readJsonBody (req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw badRequest(`request body over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  let body: unknown
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw badRequest('request body is not valid JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('request body must be a JSON object')
  return body as Record<string, unknown>
}
