/**
 * A user-space delay link (the kernels here have no netem): a TCP proxy on 127.0.0.1
 * that holds every chunk `delayMs` before passing it on, each way, in order, FINs
 * included. One round trip through it costs 2 x `delayMs`.
 *
 * The TCP handshake between the client and the proxy happens on loopback and cannot be
 * delayed from user space, so the proxy emulates it instead: the client's first bytes
 * are delivered no earlier than 3 x `delayMs` after the accept (SYN and SYN-ACK, then
 * the bytes' own trip), which is when they would arrive over a real link with that
 * one-way delay. Time to the first reply, measured from `connect()`, is then the same
 * as over such a link for protocols where the client speaks first (TCP request/reply,
 * TLS, multistream-select), and `(t_D - t_0) / (2 D)` counts round trips including the
 * TCP handshake.
 */

import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'

const END = Symbol('end')

interface Held {
  at: number
  chunk: Buffer | typeof END
}

export class DelayProxy {
  /** one-way delay applied to chunks that arrive from now on */
  delayMs: number
  /** connections accepted so far */
  accepted = 0
  private readonly server: Server
  private readonly sockets = new Set<Socket>()

  private constructor (server: Server, delayMs: number) {
    this.server = server
    this.delayMs = delayMs
  }

  /** A proxy on a free port of 127.0.0.1 in front of 127.0.0.1:`targetPort`. */
  static async start (targetPort: number, delayMs = 0): Promise<DelayProxy> {
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true })
    const proxy = new DelayProxy(server, delayMs)
    server.on('connection', client => { proxy.carry(client, targetPort) })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return proxy
  }

  get port (): number {
    return (this.server.address() as { port: number }).port
  }

  /** Ends every connection through the proxy (both sides see it close), as a broken path would. */
  destroyConnections (): void {
    for (const socket of this.sockets) socket.destroy()
  }

  async close (): Promise<void> {
    this.destroyConnections()
    await new Promise(resolve => this.server.close(resolve))
  }

  private carry (client: Socket, targetPort: number): void {
    this.accepted++
    const acceptedAt = performance.now()
    const upstream = connect({ host: '127.0.0.1', port: targetPort, noDelay: true, allowHalfOpen: true })
    for (const socket of [client, upstream]) {
      this.sockets.add(socket)
      socket.on('error', () => {})
      socket.once('close', () => {
        this.sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    this.pipe(client, upstream, acceptedAt + 3 * this.delayMs)
    this.pipe(upstream, client, 0)
    client.resume()
  }

  /** `from` -> `to`, each chunk held `delayMs` (and none delivered before `notBefore`). */
  private pipe (from: Socket, to: Socket, notBefore: number): void {
    const queue: Held[] = []
    let timer: NodeJS.Timeout | undefined
    let last = 0
    const flush = (): void => {
      timer = undefined
      const now = performance.now()
      while (queue.length > 0 && (queue[0] as Held).at <= now + 0.5) {
        const { chunk } = queue.shift() as Held
        if (to.destroyed) return
        if (chunk === END) {
          to.end()
        } else if (!to.write(chunk) && !from.isPaused()) {
          from.pause()
          to.once('drain', () => { from.resume() })
        }
      }
      if (queue.length > 0) timer = setTimeout(flush, (queue[0] as Held).at - now)
    }
    const hold = (chunk: Buffer | typeof END): void => {
      // never before an earlier chunk: the delay may have been changed in between
      last = Math.max(last, notBefore, performance.now() + this.delayMs)
      queue.push({ at: last, chunk })
      if (timer == null) {
        if (this.delayMs === 0 && queue.length === 1 && last <= performance.now()) flush()
        else timer = setTimeout(flush, last - performance.now())
      }
    }
    from.on('data', (chunk: Buffer) => { hold(chunk) })
    from.once('end', () => { hold(END) })
    from.once('close', () => { clearTimeout(timer) })
  }
}
