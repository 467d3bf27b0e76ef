import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { assertMethod, assertPinned } from './pinned.ts'

/** The receive-window fields of a yamux stream, private to its type. */
interface ReceiveWindow {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

let installed = false

/**
 * js-libp2p-yamux (8.0) answers every data frame it receives with a window update, so a
 * bulk transfer sends one small frame back per 64 KiB, each its own noise message and
 * write on both nodes.
 * go-yamux and rust-yamux (rust-yamux#109) hold the update back until half the window
 * has been consumed; this does the same. The sender is never starved: until the update
 * goes out it still has more than half a window of credit. Updates that carry a flag
 * (the SYN or ACK of a new stream) and those of a paused stream go out as before.
 * Installed once for the process, on the class that every yamux stream is made of.
 */
export function holdBackWindowUpdates (): void {
  if (installed) return
  assertPinned('yamux window updates', '@chainsafe/libp2p-yamux')
  assertMethod('yamux window updates', YamuxStream.prototype, 'sendWindowUpdate', 'YamuxStream.prototype')
  installed = true
  const prototype = YamuxStream.prototype as unknown as { sendWindowUpdate(): void }
  const sendWindowUpdate = prototype.sendWindowUpdate
  prototype.sendWindowUpdate = function (this: ReceiveWindow) {
    if (this.state === StreamState.Established && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) return
    sendWindowUpdate.call(this)
  }
}
