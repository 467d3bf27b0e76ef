import { Socket } from 'node:net'
import { assertMethod, assertPinned } from './pinned.ts'
import type { MessageStream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** What @libp2p/tcp's connection class (not exported) has: its socket, and the method that writes to it. */
interface TcpConnection {
  socket: Socket
  sendData(data: Uint8ArrayList): { sentBytes: number, canSendMore: boolean }
}

interface Encrypter {
  secureInbound(connection: MessageStream, options?: any): Promise<unknown>
  secureOutbound(connection: MessageStream, options?: any): Promise<unknown>
}

const corked = new WeakSet<object>()

/**
 * @libp2p/tcp (11.0) hands each buffer of an outgoing message to its own `socket.write()`,
 * and each of those is a syscall and, the socket being TCP_NODELAY, a TCP segment: a
 * noise message leaves as three (its 2-byte length, the ciphertext, the tag), and every
 * one of them wakes the other node. Corking the socket for the duration of the call makes
 * the message one `writev`. The connection encrypter is where libp2p first shows us a
 * TCP connection, so `encrypter` installs this on the connection's class the first time
 * it sees one (once for the process; other transports' connections are left alone).
 */
export function coalescingTcpWrites<Components, E extends Encrypter> (encrypter: (components: Components) => E): (components: Components) => E {
  assertPinned('coalescing TCP writes', '@libp2p/tcp')
  return components => {
    const instance = encrypter(components)
    const { secureInbound, secureOutbound } = instance
    instance.secureInbound = async (connection, options) => secureInbound.call(instance, corkSends(connection), options)
    instance.secureOutbound = async (connection, options) => secureOutbound.call(instance, corkSends(connection), options)
    return instance
  }
}

function corkSends (connection: MessageStream): MessageStream {
  if (!((connection as Partial<TcpConnection>).socket instanceof Socket)) return connection
  const prototype = Object.getPrototypeOf(connection) as TcpConnection
  if (corked.has(prototype)) return connection
  // the class is not exported, so its shape can only be checked on the first connection
  assertMethod('coalescing TCP writes', prototype, 'sendData', '@libp2p/tcp\'s connection')
  corked.add(prototype)
  const sendData = prototype.sendData
  prototype.sendData = function (this: TcpConnection, data) {
    this.socket.cork()
    try {
      return sendData.call(this, data)
    } finally {
      this.socket.uncork()
    }
  }
  return connection
}
