import { createHash } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import type { MultiaddrConnection, Stream } from '@libp2p/interface'

const HEADER_BYTES = 12
const DATA = 0
const WINDOW_UPDATE = 1

export interface FramesSent {
  /** the payload size of every data frame that carried bytes, in order */
  dataBytes: number[]
  windowUpdates: number
}

/** Records the yamux frames a muxer writes to its connection, by parsing their 12-byte headers. */
export function watchFramesSentOn (maConn: MultiaddrConnection): FramesSent {
  const frames: FramesSent = { dataBytes: [], windowUpdates: 0 }
  const buffer = new Uint8ArrayList()
  const send = maConn.send.bind(maConn)
  maConn.send = (data) => {
    buffer.append(data)
    while (buffer.byteLength >= HEADER_BYTES) {
      const type = buffer.get(1)
      const payloadBytes = type === DATA ? buffer.getUint32(8) : 0
      if (buffer.byteLength < HEADER_BYTES + payloadBytes) break
      if (payloadBytes > 0) frames.dataBytes.push(payloadBytes)
      if (type === WINDOW_UPDATE) frames.windowUpdates++
      buffer.consume(HEADER_BYTES + payloadBytes)
    }
    return send(data)
  }
  return frames
}

/** The SHA-256 of everything `stream` receives, once the other end has closed its write side. */
export function digestOfInbound (stream: Stream): Promise<Buffer> {
  const hash = createHash('sha256')
  return new Promise((resolve, reject) => {
    stream.addEventListener('message', event => {
      for (const chunk of event.data instanceof Uint8Array ? [event.data] : event.data) hash.update(chunk)
    })
    stream.addEventListener('remoteCloseWrite', () => { resolve(hash.digest()) }, { once: true })
    stream.addEventListener('close', event => { if (event.error != null) reject(event.error) }, { once: true })
  })
}
