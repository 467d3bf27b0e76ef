import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { API_PREFIX } from './protocol.ts'
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

/** The CLI's side of the control API: every client command is a call through this. */
export class ControlClient {
  private readonly dataDir: DataDir

  constructor (dataDir: DataDir) {
    this.dataDir = dataDir
  }

  async get<T> (path: string): Promise<T> {
    return readJson<T>(await this.send('GET', path))
  }

  async post<T> (path: string, body: unknown): Promise<T> {
    return readJson<T>(await this.send('POST', path, body))
  }

  async delete<T> (path: string, body: unknown): Promise<T> {
    return readJson<T>(await this.send('DELETE', path, body))
  }

  /** A call answered with JSON lines, yielded as they arrive. */
  async * lines<T> (path: string, body: unknown): AsyncGenerator<T> {
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
