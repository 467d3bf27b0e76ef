import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { API_PREFIX } from './protocol.ts'
import type {
  AllServicesView, ConnectRequest, ConnectView, ExposeRequest, FindQuery, ForwardRequest, ForwardView, FoundAgent, IdView, InviteRequest,
  IssuedView, JoinedView, MapView, MemberView, MeshEvent, NetworkView, PeerView, PingReply, RenewedView, RenewRequest, ResolvedMember,
  RevokedView, RevokeRequest, ServiceView, StatusView, TrustedPeer, TrustRequest
} from './api.ts'
import type { ApiErrorBody } from './protocol.ts'
import type { DataDir } from '../config/data-dir.ts'
import type { IncomingMessage } from 'node:http'

export class NoDaemonError extends Error {
  override name = 'NoDaemonError'
}

export class ControlApiError extends Error {
  override name = 'ControlApiError'
  readonly code: string

  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** The CLI's side of the control API: every client command is a call through this, one method per call. */
export class ControlClient {
  private readonly dataDir: DataDir

  constructor (dataDir: DataDir) {
    this.dataDir = dataDir
  }

  async id (): Promise<IdView> {
    return this.get('/id')
  }

  async status (): Promise<StatusView> {
    return this.get('/status')
  }

  async peers (): Promise<PeerView[]> {
    return this.get('/peers')
  }

  /** `count` pings a second apart, each reply yielded as it comes. */
  ping (peer: string, count: number): AsyncGenerator<PingReply> {
    return this.lines('/ping', { peer, count })
  }

  /** The node's events as they happen, after those it still keeps from `since` on. */
  events (since?: number): AsyncGenerator<MeshEvent> {
    return this.lines('/events', since == null ? {} : { since })
  }

  /** The dashboard's URL (started by the first call). */
  async ui (): Promise<{ url: string }> {
    return this.get('/ui')
  }

  async trusted (): Promise<TrustedPeer[]> {
    return this.get('/trust')
  }

  async trust (request: TrustRequest): Promise<TrustedPeer> {
    return this.post('/trust', request)
  }

  async untrust (peerId: string): Promise<{ peerId: string }> {
    return this.delete('/trust', { peerId })
  }

  async services (): Promise<ServiceView[]> {
    return this.get('/services')
  }

  /** This node's services and those the members of its networks publish. */
  async allServices (): Promise<AllServicesView> {
    return this.get('/services?all=1')
  }

  async expose (request: ExposeRequest): Promise<ServiceView> {
    return this.post('/services', request)
  }

  async unexpose (name: string): Promise<{ name: string }> {
    return this.delete('/services', { name })
  }

  async forwards (): Promise<ForwardView[]> {
    return this.get('/forwards')
  }

  async forward (request: ForwardRequest): Promise<ForwardView> {
    return this.post('/forwards', request)
  }

  async unforward (listen: string): Promise<{ listen: string }> {
    return this.delete('/forwards', { listen })
  }

  async networks (): Promise<NetworkView[]> {
    return this.get('/networks')
  }

  async createNetwork (name: string, memberName?: string): Promise<NetworkView> {
    return this.post('/networks', { name, memberName })
  }

  async invite (request: InviteRequest): Promise<IssuedView> {
    return this.post('/invites', request)
  }

  async renew (request: RenewRequest): Promise<RenewedView> {
    return this.post('/renewals', request)
  }

  async revoke (request: RevokeRequest): Promise<RevokedView> {
    return this.post('/revocations', request)
  }

  async join (token: string): Promise<JoinedView> {
    return this.post('/join', { token })
  }

  async members (): Promise<MemberView[]> {
    return this.get('/members')
  }

  async resolve (name: string, network?: string): Promise<ResolvedMember> {
    return this.get(`/resolve?${query({ name, network })}`)
  }

  async maps (): Promise<MapView[]> {
    return this.get('/maps')
  }

  async map (name: string, network?: string): Promise<MapView> {
    return this.post('/maps', { name, network })
  }

  async unmap (name: string): Promise<{ name: string }> {
    return this.delete('/maps', { name })
  }

  /** `/etc/hosts` lines for the mapped members */
  async hosts (): Promise<string[]> {
    return this.get('/hosts')
  }

  async findAgents (find: FindQuery): Promise<FoundAgent[]> {
    return this.get(`/agents?${query({ ...find })}`)
  }

  async connect (request: ConnectRequest): Promise<ConnectView> {
    return this.post('/connect', request)
  }

  private async get<T> (path: string): Promise<T> {
    return readJson<T>(await this.send('GET', path))
  }

  private async post<T> (path: string, body: unknown): Promise<T> {
    return readJson<T>(await this.send('POST', path, body))
  }

  private async delete<T> (path: string, body: unknown): Promise<T> {
    return readJson<T>(await this.send('DELETE', path, body))
  }

  /** A call answered with JSON lines, yielded as they arrive. */
  private async * lines<T> (path: string, body: unknown): AsyncGenerator<T> {
    const res = await this.send('POST', path, body)
    if (res.statusCode !== 200) return await readJson<never>(res)
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      if (line !== '') yield JSON.parse(line) as T
    }
  }

  private async send (method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    const payload = body == null ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.dataDir.controlSocket,
        method,
        path: API_PREFIX + path,
        headers: payload == null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
      }, resolve)
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? new NoDaemonError(`no agentmesh daemon is running on ${this.dataDir.root}: start one with \`npx agentmesh start --data-dir ${this.dataDir.root}\``)
          : err)
      })
      req.end(payload)
    })
  }
}

/** A query string of the parameters that are set. */
function query (parameters: Record<string, string | undefined>): URLSearchParams {
  return new URLSearchParams(Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] != null))
}

async function readJson<T> (res: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk)
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  if (res.statusCode !== 200) {
    const { error } = body as ApiErrorBody
    throw new ControlApiError(error.code, error.message)
  }
  return body as T
}
