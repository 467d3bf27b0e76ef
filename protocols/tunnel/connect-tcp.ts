import { connect } from 'node:net'
import type { Socket } from 'node:net'

/** A TCP connection to a local service, with Nagle off and half-close allowed. */
export async function connectTcp (host: string, port: number, timeoutMs: number): Promise<Socket> {
  return connectLocal({ host, port }, timeoutMs)
}

/** A connection to a local TCP service or unix socket (`path`), with Nagle off and half-close allowed. */
export async function connectLocal (target: { host: string, port: number } | { path: string }, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ ...target, noDelay: true, allowHalfOpen: true, timeout: timeoutMs })
    socket.pause()
    socket.once('connect', () => {
      socket.setTimeout(0)
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('timeout', () => { socket.destroy(Object.assign(new Error(`no connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })) })
    socket.once('error', reject)
  })
}
