import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { holdBackWindowUpdates } from '../../src/node/patches/yamux-window-updates.ts'
import { digestOfInbound, watchFramesSentOn } from '../helpers/muxer.ts'
import { within } from '../helpers/services/within.ts'
import type { Stream } from '@libp2p/interface'

const PAYLOAD_BYTES = 8 * 2 ** 20
const CHUNK_BYTES = 64 * 1024
/** Half of yamux's initial 256 KiB receive window. */
const HALF_WINDOW_BYTES = 128 * 1024

async function sendAll (stream: Stream, payload: Buffer): Promise<void> {
  for (let offset = 0; offset < payload.byteLength; offset += CHUNK_BYTES) {
    if (!stream.send(payload.subarray(offset, offset + CHUNK_BYTES))) await stream.onDrain()
  }
  await stream.close()
}

describe('yamux window updates, held back until half the receive window is consumed', () => {
  it('carries 8 MiB intact with at most one window update per 128 KiB consumed (stock yamux: one per 64 KiB frame)', async () => {
    holdBackWindowUpdates()
    const [outbound, inbound] = multiaddrConnectionPair()
    const fromSender = watchFramesSentOn(outbound)
    const fromReceiver = watchFramesSentOn(inbound)
    const muxerOptions = { enableKeepAlive: false }
    const sender = yamux(muxerOptions)().createStreamMuxer(outbound)
    const receiver = yamux(muxerOptions)().createStreamMuxer(inbound)
    try {
      const received = new Promise<Buffer>(resolve => {
        receiver.addEventListener('stream', ({ detail }) => { resolve(digestOfInbound(detail)) }, { once: true })
      })
      const payload = randomBytes(PAYLOAD_BYTES)
      await sendAll(await sender.createStream(), payload)
      const digest = await within('8 MiB through the stream', 20_000, received)
      assert.deepEqual(digest, createHash('sha256').update(payload).digest())

      assert.ok(fromReceiver.windowUpdates >= 1, 'the receiver opens its window again as it consumes it')
      assert.ok(fromReceiver.windowUpdates <= PAYLOAD_BYTES / HALF_WINDOW_BYTES,
        `${fromReceiver.windowUpdates} window updates for ${fromSender.dataBytes.length} data frames`)
    } finally {
      sender.abort(new Error('test over'))
      receiver.abort(new Error('test over'))
    }
  })
})
