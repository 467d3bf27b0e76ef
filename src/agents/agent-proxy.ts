/**
 * The HTTP side of tunnels to A2A agents and MCP servers (`expose --a2a`, `--mcp`): the
 * tunnel responder connects each such tunnel to this proxy's unix socket (mode 0600 in
 * the data directory) instead of the service, after a ticket naming the verified caller,
 * so the tunnel's byte semantics, limits and counters stay those of every tunnel. The
 * proxy serves HTTP/1.1 on that connection and sends each request on to the service
 * with the caller's identity in headers (any such header the caller sent is removed
 * first), and rewrites the agent card so that its interface URLs point at the URL the
 * caller used. Bodies, chunked or not, server-sent events and keep-alive pass through
 * untouched.
 */

import { randomBytes } from 'node:crypto'
import { Agent, createServer as createHttpServer, request } from 'node:http'
import { createServer } from 'node:net'
import { unlink } from 'node:fs/promises'
import { listenOnUnixSocket } from '../state/unix-socket.ts'
import { AGENT_CARD_PATH, LEGACY_AGENT_CARD_PATH, MAX_AGENT_CARD_BYTES, rewriteAgentCard } from './agent-card.ts'
import type { AgentInfo } from './agent-info.ts'
import type { Logger } from '../log/logger.ts'
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Server, Socket } from 'node:net'

/** The headers that name the caller (tunnel SPEC section 7). Any header starting with the prefix that a caller sends is dropped. */
export const CALLER_HEADER_PREFIX = 'x-agentmesh-'
export const CallerHeader = {
  PEER_ID: 'X-Agentmesh-Peer-Id',
  NAME: 'X-Agentmesh-Name',
  GROUPS: 'X-Agentmesh-Groups',
  NETWORK: 'X-Agentmesh-Network'
} as const

/** A ticket is random bytes: only this process hands them out, so nothing else on the socket is served. */
const TICKET_BYTES = 16
/** The responder writes its ticket right after connecting: one not used by then is dropped. */
const TICKET_TTL_MS = 10_000
/** A connection must present its ticket this soon. */
const TICKET_READ_TIMEOUT_MS = 5_000

/** Headers that belong to one connection, never forwarded (RFC 9110 section 7.6.1), and the ones the proxy sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'])
const SET_BY_PROXY = new Set(['host', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'])

/** Who opened the tunnel, as the grants verified it. */
export interface AgentCaller {
  peerId: string
  name?: string
  groups: string[]
  /** the network the tunnel is in; none for an allowlisted peer */
  network?: string
}

/** The service a tunnel reaches. */
export interface AgentTarget {
  name: string
  host: string
  port: number
  agent: AgentInfo
}

interface Ticket {
  caller: AgentCaller
  target: AgentTarget
}

export interface AgentProxyInit {
  /** where it listens: `agents.sock` in the data directory */
  socketPath: string
}

export interface AgentProxyComponents {
  log: Logger
}

export class AgentProxy {
  readonly socketPath: string
  private readonly log: Logger
  private readonly tickets = new Map<string, { ticket: Ticket, timer: NodeJS.Timeout }>()
  private readonly connections = new WeakMap<Socket, Ticket>()
  private readonly server: Server
  private readonly http = createHttpServer({ requestTimeout: 0 })
  /** keep-alive connections to the services, shared by all callers: the identity travels per request */
  private readonly upstream = new Agent({ keepAlive: true })

  constructor (components: AgentProxyComponents, init: AgentProxyInit) {
    this.socketPath = init.socketPath
    this.log = components.log
    this.server = createServer({ allowHalfOpen: false }, socket => { this.accept(socket) })
    this.http.on('request', (req, res) => { this.forward(req, res) })
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
      else socket.destroy()
    })
  }

  async start (): Promise<void> {
    await listenOnUnixSocket(this.server, this.socketPath)
  }

  async stop (): Promise<void> {
    for (const { timer } of this.tickets.values()) clearTimeout(timer)
    this.tickets.clear()
    this.http.closeAllConnections()
    this.upstream.destroy()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
    await unlink(this.socketPath).catch(() => {})
  }

  /** The bytes the responder writes first on its connection to the proxy socket: a ticket for one tunnel of `caller` to `target`. */
  admit (target: AgentTarget, caller: AgentCaller): Uint8Array {
    const bytes = randomBytes(TICKET_BYTES)
    const key = bytes.toString('hex')
    const timer = setTimeout(() => { this.tickets.delete(key) }, TICKET_TTL_MS)
    timer.unref()
    this.tickets.set(key, { ticket: { caller, target }, timer })
    return bytes
  }

  /** A connection from the responder: its ticket, then HTTP. Anything else is dropped. */
  private accept (socket: Socket): void {
    socket.on('error', () => {})
    let head = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy() }, TICKET_READ_TIMEOUT_MS)
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      if (head.length < TICKET_BYTES) return
      socket.off('data', onData)
      clearTimeout(timer)
      const key = head.subarray(0, TICKET_BYTES).toString('hex')
      const entry = this.tickets.get(key)
      this.tickets.delete(key)
      if (entry == null) {
        socket.destroy()
        return
      }
      clearTimeout(entry.timer)
      socket.pause()
      socket.unshift(head.subarray(TICKET_BYTES))
      this.connections.set(socket, entry.ticket)
      this.http.emit('connection', socket)
      socket.resume()
    }
    socket.on('data', onData)
    socket.once('close', () => { clearTimeout(timer) })
  }

  /** One request: to the service, with the caller named; the agent card rewritten on the way back. */
  private forward (req: IncomingMessage, res: ServerResponse): void {
    const ticket = this.connections.get(req.socket)
    if (ticket == null) {
      res.destroy()
      return
    }
    const { target } = ticket
    const path = req.url ?? '/'
    const card = target.agent.kind === 'a2a' && (req.method === 'GET' || req.method === 'HEAD') && isCardPath(path)
    const headers = requestHeaders(req, ticket, card)
    const upstream = request({ host: target.host, port: target.port, method: req.method, path, headers, agent: this.upstream, setHost: false }, answer => {
      if (card && answer.statusCode === 200 && req.method === 'GET') {
        this.sendCard(req, res, answer, target)
        return
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer.headers))
      // the status line and headers at once: a server-sent event stream may wait long for its first event
      res.flushHeaders()
      answer.pipe(res)
      answer.once('error', () => { res.destroy() })
    })
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`agentmesh: ${target.name} (${target.host}:${target.port}) cannot be reached: ${err.code ?? err.message}\n`)
      } else {
        res.destroy()
      }
    })
    // the caller went away before the answer ended (a stream it stopped reading): so does the request to the service
    res.once('close', () => { if (!res.writableFinished) upstream.destroy() })
    req.pipe(upstream)
  }

  /** The agent card with its interfaces on the URL the caller used (its Host header); a card that is not a JSON object passes unchanged. */
  private sendCard (req: IncomingMessage, res: ServerResponse, answer: IncomingMessage, target: AgentTarget): void {
    const chunks: Buffer[] = []
    let length = 0
    answer.on('data', (chunk: Buffer) => {
      length += chunk.length
      if (length > MAX_AGENT_CARD_BYTES) {
        answer.destroy()
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' })
          res.end(`agentmesh: the agent card of ${target.name} is larger than ${MAX_AGENT_CARD_BYTES} bytes\n`)
        }
        return
      }
      chunks.push(chunk)
    })
    answer.once('error', () => { res.destroy() })
    answer.once('end', () => {
      if (res.headersSent) return
      let body = Buffer.concat(chunks)
      const host = req.headers.host
      try {
        const parsed = JSON.parse(body.toString('utf8'))
        if (host != null && HOST_PATTERN.test(host) && parsed != null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          body = Buffer.from(JSON.stringify(rewriteAgentCard(parsed, `http://${host}`)))
        }
      } catch {
        this.log.debug({ service: target.name }, 'the agent card is not JSON: passed on unchanged')
      }
      const headers = responseHeaders(answer.headers)
      delete headers.etag
      delete headers['content-encoding']
      res.writeHead(200, answer.statusMessage, { ...headers, 'content-length': body.length })
      res.end(body)
    })
  }
}

/** A Host header the card's URLs can name: a host name, an IPv4 address or a bracketed IPv6 address, and a port. */
const HOST_PATTERN = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

function isCardPath (path: string): boolean {
  const pathname = path.split('?')[0]
  return pathname === AGENT_CARD_PATH || pathname === LEGACY_AGENT_CARD_PATH
}

/** Names a `Connection` header lists are hop-by-hop too. */
function connectionTokens (headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection
  return new Set((Array.isArray(value) ? value.join(',') : value ?? '').split(',').map(token => token.trim().toLowerCase()).filter(token => token !== ''))
}

/**
 * What the service gets: the caller's headers (duplicates and case kept) without
 * hop-by-hop headers, without any `X-Agentmesh-*` header, and without forwarding headers
 * the caller could forge; then Host (the service's own address), X-Forwarded-Host (the
 * address the caller used), X-Forwarded-Proto, and the caller's identity. A card request
 * asks for an uncompressed, unconditional answer, so that it can be rewritten.
 */
function requestHeaders (req: IncomingMessage, { caller, target }: Ticket, card: boolean): OutgoingHttpHeaders {
  const connection = connectionTokens(req.headers)
  const headers: Record<string, string | string[]> = {}
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || connection.has(lower) || SET_BY_PROXY.has(lower) || lower.startsWith(CALLER_HEADER_PREFIX)) continue
    if (card && (lower === 'if-none-match' || lower === 'if-modified-since' || lower === 'accept-encoding')) continue
    const previous = headers[name]
    headers[name] = previous == null ? raw[i + 1] as string : [...[previous].flat(), raw[i + 1] as string]
  }
  headers.Host = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
  if (req.headers.host != null) headers['X-Forwarded-Host'] = req.headers.host
  headers['X-Forwarded-Proto'] = 'http'
  headers[CallerHeader.PEER_ID] = caller.peerId
  if (caller.name != null && caller.name !== '') headers[CallerHeader.NAME] = caller.name
  if (caller.groups.length > 0) headers[CallerHeader.GROUPS] = caller.groups.join(',')
  if (caller.network != null) headers[CallerHeader.NETWORK] = caller.network
  if (card) headers['Accept-Encoding'] = 'identity'
  return headers
}

/** The service's answer headers for the caller, without the hop-by-hop ones (node sets its own framing). */
function responseHeaders (headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const connection = connectionTokens(headers)
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value == null || HOP_BY_HOP.has(name) || connection.has(name)) continue
    out[name] = value
  }
  return out
}
