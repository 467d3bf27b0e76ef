/** Time to the first byte back on new connections: plain TCP request/reply, and HTTP/2 over TLS. */

import { connect as connectHttp2 } from 'node:http2'
import { connect } from 'node:net'

const TIMEOUT_MS = 10_000

/** Milliseconds from `connect()` to the echoed byte, for `count` sequential new connections to host:port. */
export async function firstByteMs (port: number, count: number, host = '127.0.0.1'): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    times.push(await new Promise<number>((resolve, reject) => {
      const started = performance.now()
      const socket = connect({ port, host, noDelay: true }, () => { socket.write('x') })
      socket.setTimeout(TIMEOUT_MS, () => { socket.destroy(new Error(`no reply through port ${port} within ${TIMEOUT_MS} ms`)) })
      socket.once('data', () => {
        resolve(performance.now() - started)
        socket.destroy()
      })
      socket.once('error', reject)
      socket.once('close', () => { reject(new Error(`connection through port ${port} closed before a reply`)) })
    }))
  }
  return times
}

/**
 * Milliseconds from `http2.connect()` (a new TCP connection and a full TLS handshake: no
 * session is resumed) to the first byte of the response body to one GET.
 */
export async function http2FirstByteMs (port: number, ca: string): Promise<number> {
  const started = performance.now()
  const session = connectHttp2(`https://127.0.0.1:${port}`, { ca })
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no HTTP/2 response through port ${port} within ${TIMEOUT_MS} ms`)) }, TIMEOUT_MS)
      session.once('error', reject)
      const request = session.request({ ':path': '/' })
      request.once('error', reject)
      request.once('data', () => {
        clearTimeout(timer)
        resolve(performance.now() - started)
      })
      request.end()
    })
  } finally {
    session.destroy()
  }
}
