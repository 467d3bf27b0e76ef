import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { assertMethod, assertPinned } from './pinned.ts'

/** What a yamux stream inherits from libp2p's AbstractMessageStream: its largest message, and the method that cuts its send buffer into messages. */
interface MessageSize {
  maxMessageSize: number
  processSendQueue(): boolean
}

let installed = false

/**
 * Caps the payload of the yamux data frames of every stream at `maxPayloadBytes`.
 * js-libp2p-yamux (8.0) sends frames as large as the peer's window (up to 4 MiB here),
 * which noise then cuts at 65,519 bytes wherever that falls; frames of at most one noise
 * message each keep frame and message boundaries together, so the receiver never joins
 * a frame from two messages. Installed once for the process, on the class every yamux
 * stream is made of: the stream sets its own size from the window, so the cap is
 * applied each time the stream cuts its send buffer.
 */
export function capYamuxFrames (maxPayloadBytes: number): void {
  if (installed) return
  assertPinned('yamux frame size', '@chainsafe/libp2p-yamux')
  // processSendQueue comes from @libp2p/utils's AbstractMessageStream
  assertPinned('yamux frame size', '@libp2p/utils')
  assertMethod('yamux frame size', YamuxStream.prototype, 'processSendQueue', 'YamuxStream.prototype')
  installed = true
  const prototype = YamuxStream.prototype as unknown as MessageSize
  const processSendQueue = prototype.processSendQueue
  prototype.processSendQueue = function (this: MessageSize) {
    if (this.maxMessageSize > maxPayloadBytes) this.maxMessageSize = maxPayloadBytes
    return processSendQueue.call(this)
  }
}
