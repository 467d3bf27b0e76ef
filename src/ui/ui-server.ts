import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { formatHostPort, listenOn, parseHostPort } from '../addresses/host-port.ts'
import { MAX_STREAM_BACKLOG_BYTES, MAX_STREAMS, RECENT_ON_CONNECT, SECRET_BYTES, SNAPSHOT_INTERVAL_MS } from './constants.ts'
import type { EventBus, MeshEvent } from '../events/index.ts'
import type { Logger } from '../log/logger.ts'
import type { DashboardSnapshot } from './snapshot.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

export interface UiServerInit {
  /** a loopback `host:port` (`ui.listen`); port 0 takes a free one */
  listen: string
}

export interface UiServerComponents {
  snapshot(signal: AbortSignal): Promise<DashboardSnapshot>
  events: EventBus
  log: Logger
}

/** The page and its two files, served from `static/` as they are: no build step, nothing from a CDN. */
const FILES: Record<string, { file: string, type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' }
}

/** Sent with every answer: nothing but this origin's own files may run, be fetched or frame the page. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store'
}

/**
 * The dashboard (`agentmesh ui`): one static page and a server-sent event stream of
 * snapshots and mesh events, on loopback, read-only. Every request must carry the
 * per-start secret, first as `?token=` in the URL that `agentmesh ui` prints (answered
 * with an HttpOnly, SameSite=Strict cookie and a redirect that drops it from the
 * address bar), then in that cookie; and a `Host` header naming this server (a DNS
 * rebinding attack names its own). Anything else is 403; no CORS headers are ever sent.
 * Started on the first `agentmesh ui`, not before.
 */
export class UiServer {
  private readonly init: UiServerInit
  private readonly components: UiServerComponents
  private readonly secret = randomBytes(SECRET_BYTES).toString('base64url')
  private readonly server: Server
  private readonly streams = new Set<ServerResponse>()
  private starting?: Promise<string>
  private hosts = new Set<string>()
  private cookie = ''

  constructor (components: UiServerComponents, init: UiServerInit) {
    this.components = components
    this.init = init
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: any) => {
        components.log.warn({ err: err?.message, url: req.url }, 'dashboard request failed')
        if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS).end()
        else res.destroy()
      })
    })
    this.server.on('clientError', (_err, socket) => { socket.destroy() })
  }

  /** Starts the server if it is not running; resolves to the URL with the secret. */
  async open (): Promise<string> {
    this.starting ??= this.listen().catch(err => {
      this.starting = undefined
      throw err
    })
    return this.starting
  }

  async stop (): Promise<void> {
    if (this.starting == null) return
    for (const stream of this.streams) stream.destroy()
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
  }

  private async listen (): Promise<string> {
    const { host, port: bound } = await listenOn(this.server, parseHostPort(this.init.listen, { allowZero: true })).catch((err: any) => {
      throw new Error(`cannot serve the dashboard on ${this.init.listen}: ${err.code ?? err.message} (ui.listen)`)
    })
    const origin = formatHostPort({ host, port: bound })
    this.hosts = new Set([origin, `localhost:${bound}`])
    // cookies are shared by every port of a host: each daemon's cookie has its own name
    this.cookie = `agentmesh_ui_${bound}`
    this.components.log.info({ address: origin }, 'dashboard started')
    return `http://${origin}/?token=${this.secret}`
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.hosts.has((req.headers.host ?? '').toLowerCase())) return deny(res, 'unknown Host header')
    const url = new URL(req.url ?? '/', 'http://dashboard')
    const token = url.searchParams.get('token')
    if (!this.isSecret(token ?? cookieValue(req.headers.cookie, this.cookie))) return deny(res, 'missing or wrong token: open the URL `agentmesh ui` prints')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('the dashboard is read-only\n')
      return
    }
    if (token != null) {
      // the token leaves the address bar (and the history); the cookie carries it from now on
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        location: url.pathname,
        'set-cookie': `${this.cookie}=${this.secret}; HttpOnly; SameSite=Strict; Path=/`
      }).end()
      return
    }
    if (url.pathname === '/api/snapshot') return sendJson(res, await this.components.snapshot(AbortSignal.timeout(SNAPSHOT_INTERVAL_MS * 10)))
    if (url.pathname === '/api/stream') return this.stream(req, res)
    const file = FILES[url.pathname]
    if (file == null) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    const body = await readFile(join(import.meta.dirname, 'static', file.file))
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body)
  }

  private isSecret (value: string | undefined | null): boolean {
    if (value == null) return false
    const given = Buffer.from(value)
    const secret = Buffer.from(this.secret)
    return given.length === secret.length && timingSafeEqual(given, secret)
  }

  /** Server-sent events: `snapshot` every second, `mesh` for each event (the recent ones first). */
  private stream (req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) {
      res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain', 'retry-after': '5' }).end('too many dashboard tabs are open\n')
      return
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream' })
    this.streams.add(res)
    const send = (type: string, data: unknown): void => {
      if (res.destroyed) return
      if (res.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        res.destroy()
        return
      }
      res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    const snapshot = (): void => {
      this.components.snapshot(AbortSignal.timeout(SNAPSHOT_INTERVAL_MS * 10)).then(value => { if (!res.destroyed) send('snapshot', value) }, (err: any) => {
        this.components.log.debug({ err: err?.message }, 'dashboard snapshot failed')
      })
    }
    for (const event of this.components.events.recent().slice(-RECENT_ON_CONNECT)) send('mesh', event)
    snapshot()
    const timer = setInterval(snapshot, SNAPSHOT_INTERVAL_MS)
    const unsubscribe = this.components.events.subscribe((event: MeshEvent) => { send('mesh', event) })
    res.once('close', () => {
      clearInterval(timer)
      unsubscribe()
      this.streams.delete(res)
    })
    req.socket.setNoDelay(true)
  }
}

function deny (res: ServerResponse, reason: string): void {
  res.writeHead(403, { ...SECURITY_HEADERS, 'content-type': 'text/plain' }).end(`forbidden: ${reason}\n`)
}

function sendJson (res: ServerResponse, value: unknown): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(value))
}

function cookieValue (header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}
