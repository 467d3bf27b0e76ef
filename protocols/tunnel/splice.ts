import { Uint8ArrayList } from 'uint8arraylist'
import { FIN_DEFER_MAX_MS, FIN_QUIET_MS, STREAM_CHUNK_BYTES } from './constants.ts'
import { HalfClosedIdleError, LocalSocketClosedError, StalledTunnelError } from './errors.ts'
import type { Connection, Stream } from '@libp2p/interface'
import type { Socket } from 'node:net'

/**
 * Joining a TCP socket and a libp2p stream with the semantics a TCP user expects:
 * - a FIN on either side half-closes that direction only (socket `end` -> stream
 *   `close()`, stream `end` -> `socket.end()`); the other keeps flowing;
 * - a reset on either side resets the other (socket error -> `stream.abort()`, stream
 *   reset -> `socket.resetAndDestroy()`); so does the loss of the connection under the
 *   stream, in every state of the socket, half-closed included (libp2p ends a stream
 *   whose connection closed as if the other node had sent a FIN, which a TCP client
 *   would take for a complete reply, and a stream paused with unread bytes never ends);
 * - bytes for a socket that is already closed reset the stream, as TCP answers them
 *   with a RST;
 * - a half-closed tunnel that carries nothing for `halfClosedIdleMs`, or one stalled
 *   by backpressure that carries nothing for `stalledMs`, is reset both ways
 *   (`TunnelWatch`), so nothing holds a tunnel's slot once both ends are gone;
 * - on the opener, the far end's FIN reaches a client whose latest bytes had no answer
 *   yet once it has stopped sending for a moment (`TunnelWatch.whenUpstreamQuiet`), so
 *   that a RST for those bytes wins;
 * - backpressure both ways: the socket is paused while the stream's send buffer is
 *   full, and the stream (so its yamux window) while the socket's write buffer is full.
 * The two directions start separately: the opener sends right behind its envelope but
 * reads only after the response envelope.
 */

/**
 * Calls `resume` once `stream` has sent what it holds, but for less than a chunk. A
 * stream's 'drain' does not promise that: libp2p dispatches it to every stream of a
 * connection whose transport drained (and to a stream whose window grew), while the
 * stream itself may still hold megabytes waiting for its yamux window. Trusting it made
 * one tunnel of four parallel flows over a TLS connection (whose socket fills at 16 KiB)
 * buffer 22 MiB. The check waits a microtask, after the stream's own drain handler has
 * sent what it could; 'idle' (nothing left to send) ends any wait.
 */
function resumeWhenDrained (stream: Stream, resume: () => void): void {
  const check = (): void => {
    queueMicrotask(() => {
      if (stream.writeBufferLength >= STREAM_CHUNK_BYTES) {
        stream.addEventListener('drain', check, { once: true })
        return
      }
      stream.removeEventListener('idle', onIdle)
      resume()
    })
  }
  const onIdle = (): void => {
    stream.removeEventListener('drain', check)
    resume()
  }
  stream.addEventListener('drain', check, { once: true })
  stream.addEventListener('idle', onIdle, { once: true })
}

/**
 * socket -> stream; `count` sees every byte sent. A read longer than STREAM_CHUNK_BYTES
 * goes out in whole chunks, and its remainder waits for the next read or for the end of
 * this turn of the event loop, whichever comes first: 64 KiB reads would otherwise each
 * cost a second, tiny noise message.
 */
export function pumpSocketToStream (socket: Socket, stream: Stream, count: (bytes: number) => void, watch?: TunnelWatch): void {
  let remainder: Uint8ArrayList | undefined
  let flushing: NodeJS.Immediate | undefined
  const send = (data: Uint8Array | Uint8ArrayList): void => {
    try {
      if (!stream.send(data)) {
        socket.pause()
        watch?.stalled('up', true)
        resumeWhenDrained(stream, () => {
          watch?.stalled('up', false)
          socket.resume()
        })
      }
    } catch (err: any) {
      stream.abort(err)
      socket.resetAndDestroy()
    }
  }
  const flush = (): void => {
    clearImmediate(flushing)
    flushing = undefined
    const rest = remainder
    remainder = undefined
    if (rest != null && stream.writeStatus === 'writable') send(rest)
  }
  socket.on('data', (chunk: Buffer) => {
    count(chunk.byteLength)
    if (remainder == null && chunk.byteLength <= STREAM_CHUNK_BYTES) {
      send(chunk)
      return
    }
    const pending = remainder ?? new Uint8ArrayList()
    pending.append(chunk)
    const whole = pending.byteLength - pending.byteLength % STREAM_CHUNK_BYTES
    if (whole > 0) send(pending.sublist(0, whole))
    pending.consume(whole)
    remainder = pending.byteLength > 0 ? pending : undefined
    if (remainder != null) flushing ??= setImmediate(flush)
    else flush()
  })
  socket.once('end', () => {
    flush()
    stream.close().catch(err => { stream.abort(err) })
  })
  socket.once('error', err => { stream.abort(err) })
  socket.once('close', () => {
    clearImmediate(flushing)
    // closed without both FINs (destroyed, or reset): the stream cannot complete either
    if (stream.status === 'open' && !(socket.readableEnded && socket.writableFinished)) {
      stream.abort(new Error('the local connection closed'))
    }
  })
  socket.resume()
}

/**
 * stream -> socket, starting with `head` (stream bytes read before); `count` sees every
 * byte written; `onCut` hears why, when the stream was cut while the socket was up.
 */
export function pumpStreamToSocket (stream: Stream, connection: Connection, socket: Socket, head: Uint8ArrayList | undefined, count: (bytes: number) => void, onCut?: (reason: string) => void, watch?: TunnelWatch): void {
  const write = (data: Uint8Array | Uint8ArrayList): void => {
    if (socket.destroyed) {
      // TCP answers bytes for a closed socket with a RST: so does the tunnel
      stream.abort(new LocalSocketClosedError('the local connection is closed'))
      return
    }
    let ok = true
    // a list goes out as one writev, not a syscall (and a segment) per chunk
    socket.cork()
    for (const chunk of data instanceof Uint8Array ? [data] : data) {
      count(chunk.byteLength)
      ok = socket.write(chunk)
    }
    socket.uncork()
    if (!ok && stream.readStatus === 'readable') {
      stream.pause()
      watch?.stalled('down', true)
      socket.once('drain', () => {
        watch?.stalled('down', false)
        if (stream.readStatus === 'paused') stream.resume()
      })
    }
  }
  if (head != null && head.byteLength > 0) write(head)
  stream.addEventListener('message', event => { write(event.data) })
  // a reset also ends the stream's input, and 'end' comes before 'close': a FIN sent
  // here would make the later RST impossible (a socket that is shutting down cannot reset)
  const cut = (reason: string): void => {
    onCut?.(reason)
    socket.resetAndDestroy()
  }
  const endSocket = (): void => {
    if (socket.destroyed) return
    if (stream.status === 'reset' || stream.status === 'aborted') cut('the stream was reset')
    else if (connection.status !== 'open') cut('the connection to the peer closed')
    else if (watch != null) watch.whenUpstreamQuiet(() => { if (!socket.destroyed) socket.end() })
    else socket.end()
  }
  if (stream.readableEnded) endSocket()
  else stream.addEventListener('end', endSocket, { once: true })
  stream.addEventListener('close', event => {
    if (socket.destroyed) return
    if (event.error != null) cut(event.error.message)
    // a half-closed socket, or one behind a stream paused with unread bytes, hears no
    // 'end' when the connection goes: reset it all the same. A stream that closes while
    // this side never closed its write end (the socket has not sent its FIN) did not
    // complete: its connection went, possibly gracefully, with libp2p saying nothing
    else if (connection.status !== 'open' || !socket.readableEnded) cut('the connection to the peer closed')
  }, { once: true })
  if (stream.readStatus === 'paused') stream.resume()
}

export interface TunnelWatchOptions {
  /** a half-closed tunnel (either end has sent its FIN, or is closed) that carries no byte this long is reset */
  halfClosedIdleMs: number
  /** a tunnel held by backpressure (a side that does not read) that carries no byte this long is reset */
  stalledMs: number
  /** hold the far end's FIN while the local client's latest bytes have had no answer (the opener: its local end is the client) */
  deferFin?: boolean
}

/**
 * Resets both ends of a tunnel that carries no byte for a while when it is half-closed
 * (as conntrack forgets a connection in FIN-WAIT or CLOSE-WAIT) or stalled (a direction
 * paused by backpressure: a local socket that is paused does not even see its client's
 * FIN or RST, and a side that never reads would hold the tunnel and its buffers for
 * good; TCP_USER_TIMEOUT does the same for TCP). An open tunnel that is merely idle is
 * never timed out. The pumps call `touch()` on every chunk and `stalled()` as they pause
 * and resume; `onExpire` hears why.
 */
export class TunnelWatch {
  private readonly socket: Socket
  private readonly stream: Stream
  private readonly options: TunnelWatchOptions
  private readonly onExpire?: (reason: string) => void
  private timer?: NodeJS.Timeout
  private armedMs = 0
  private halfClosed = false
  private readonly stalls = { up: false, down: false }
  private over = false
  private lastUp = 0
  private lastDown = 0

  constructor (socket: Socket, stream: Stream, options: TunnelWatchOptions, onExpire?: (reason: string) => void) {
    this.socket = socket
    this.stream = stream
    this.options = options
    this.onExpire = onExpire
    const half = (): void => {
      this.halfClosed = true
      this.rearm()
    }
    const settle = (): void => {
      if (socket.closed && streamClosed(stream)) this.end()
      else half()
    }
    socket.once('end', half)
    socket.once('finish', half)
    socket.once('close', settle)
    stream.addEventListener('remoteCloseWrite', half, { once: true })
    stream.addEventListener('close', settle, { once: true })
  }

  /** bytes moved: the clock starts again */
  touch (): void {
    this.timer?.refresh()
  }

  /** bytes went from the stream to the local socket */
  sentDown (): void {
    this.lastDown = Date.now()
    this.timer?.refresh()
  }

  /** bytes went from the local socket to the stream */
  sentUp (): void {
    this.lastUp = Date.now()
    this.timer?.refresh()
  }

  /**
   * Runs `end` (the FIN to the local socket) at once, or, on the opener (`deferFin`)
   * when the local client's latest bytes have had no answer from the far end yet, once
   * the client has stopped sending for FIN_QUIET_MS (at most FIN_DEFER_MAX_MS later).
   * The far service may have closed without reading them: its RST is on its way back,
   * and a FIN delivered first would let a client that finishes its upload meanwhile
   * close cleanly, as if it had all arrived. TCP makes no promise on when a FIN arrives;
   * a client that got an answer to its last bytes (request, reply, FIN) or that is not
   * sending gets it at once.
   */
  whenUpstreamQuiet (end: () => void): void {
    if (this.options.deferFin !== true) {
      end()
      return
    }
    const deadline = Date.now() + FIN_DEFER_MAX_MS
    const check = (): void => {
      if (this.socket.destroyed) return
      const now = Date.now()
      const unanswered = this.lastUp > this.lastDown
      const busy = unanswered && (this.stalls.up || now - this.lastUp < FIN_QUIET_MS)
      if (!busy || now >= deadline) {
        end()
        return
      }
      setTimeout(check, Math.min(FIN_QUIET_MS, deadline - now)).unref()
    }
    check()
  }

  /** `direction` (`up`: socket to stream, `down`: stream to socket) is paused by backpressure, or no longer */
  stalled (direction: 'up' | 'down', on: boolean): void {
    this.stalls[direction] = on
    this.rearm()
  }

  private rearm (): void {
    if (this.over) return
    const stalled = this.stalls.up || this.stalls.down
    const ms = this.halfClosed && stalled
      ? Math.min(this.options.halfClosedIdleMs, this.options.stalledMs)
      : this.halfClosed ? this.options.halfClosedIdleMs : stalled ? this.options.stalledMs : 0
    if (ms === this.armedMs) return
    clearTimeout(this.timer)
    this.timer = undefined
    this.armedMs = ms
    if (ms === 0) return
    this.timer = setTimeout(() => { this.expire() }, ms)
    this.timer.unref()
  }

  private expire (): void {
    const halfClosed = this.halfClosed
    this.end()
    const err = halfClosed
      ? new HalfClosedIdleError(`half-closed and idle for ${this.armedMs / 1000} s`)
      : new StalledTunnelError(`stalled by backpressure, no byte moved for ${this.armedMs / 1000} s`)
    this.onExpire?.(err.message)
    this.stream.abort(err)
    if (!this.socket.destroyed) this.socket.resetAndDestroy()
  }

  private end (): void {
    this.over = true
    clearTimeout(this.timer)
  }
}

function streamClosed (stream: Stream): boolean {
  return stream.status === 'closed' || stream.status === 'aborted' || stream.status === 'reset'
}

/** Resolves once the socket and the stream are both closed, whichever way (one promise for as long as the tunnel lasts). */
export function bothClosed (socket: Socket, stream: Stream): Promise<void> {
  return new Promise(resolve => {
    let open = 2
    const closed = (): void => { if (--open === 0) resolve() }
    if (socket.closed) closed()
    else socket.once('close', closed)
    if (streamClosed(stream)) closed()
    else stream.addEventListener('close', closed, { once: true })
  })
}
