import { createSocket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import { encodeBindingSuccess, encodeUnknownAttributeError, parseBindingRequest } from './message.ts'
import type { RemoteInfo, Socket } from 'node:dgram'

export interface StunServerInit {
  /** '0.0.0.0', '::' or one local address. */
  host: string
  /** 3478 is STUN's registered port; 0 picks a free one. */
  port: number
  /** Socket errors are reported here and never end the process. */
  log?: (message: string, err: Error) => void
}

export interface StunCounters {
  /** Responses sent: Binding successes and 420 errors. */
  answered: number
  /** Datagrams that were not a well-formed Binding request, dropped without a word. */
  discarded: number
}

/**
 * Answers STUN Binding requests (RFC 8489) so that ICE learns its server-reflexive address from
 * the mesh's relays instead of an outside STUN server. Binding only: no credentials, no TURN,
 * no state kept between datagrams. Discards are counted, never logged, so that no stranger can
 * fill the log.
 */
export class StunServer {
  private readonly count: StunCounters = { answered: 0, discarded: 0 }
  private readonly init: StunServerInit
  private socket: Socket | undefined

  constructor (init: StunServerInit) {
    this.init = init
  }

  /** Rejects when the port cannot be bound. */
  async start (): Promise<void> {
    if (this.socket !== undefined) return
    // IPv6 only, so that '::' and '0.0.0.0' on one port can both be bound, as TCP listeners are
    const socket = isIPv6(this.init.host) ? createSocket({ type: 'udp6', ipv6Only: true }) : createSocket('udp4')
    this.socket = socket
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind({ address: this.init.host, port: this.init.port }, () => {
          socket.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      this.socket = undefined
      socket.close()
      throw err
    }
    socket.on('error', err => { this.init.log?.('STUN socket error', err) })
    socket.on('message', (datagram, rinfo) => { this.answer(socket, datagram, rinfo) })
  }

  /** Closes the socket; a second call does nothing. */
  async stop (): Promise<void> {
    const socket = this.socket
    if (socket === undefined) return
    this.socket = undefined
    await new Promise<void>(resolve => { socket.close(resolve) })
  }

  /** A snapshot, for `status`. */
  get counters (): StunCounters {
    return { ...this.count }
  }

  /** Where the server listens, undefined while stopped. */
  address (): { host: string, port: number } | undefined {
    if (this.socket === undefined) return undefined
    const { address, port } = this.socket.address()
    return { host: address, port }
  }

  private answer (socket: Socket, datagram: Uint8Array, rinfo: RemoteInfo): void {
    const request = parseBindingRequest(datagram)
    // source port 0 is never a real client, only a forged datagram, and dgram throws on sending there
    if (request.kind === 'ignore' || rinfo.port === 0) {
      this.count.discarded++
      return
    }
    const response = request.unknownRequired.length > 0
      ? encodeUnknownAttributeError(request.transactionId, request.unknownRequired)
      : encodeBindingSuccess(request.transactionId, { address: rinfo.address, port: rinfo.port })
    socket.send(response, rinfo.port, rinfo.address, err => {
      if (err != null) this.init.log?.(`STUN response to ${rinfo.address} port ${rinfo.port} failed`, err)
    })
    this.count.answered++
  }
}
