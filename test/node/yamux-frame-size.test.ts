import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { STREAM_CHUNK_BYTES } from '../../protocols/tunnel/constants.ts'
import { capYamuxFrames } from '../../src/node/patches/yamux-frame-size.ts'
import { digestOfInbound, watchFramesSentOn } from '../helpers/muxer.ts'
import { within } from '../helpers/services/within.ts'

const PAYLOAD_BYTES = 3 * 2 ** 20

describe('capYamuxFrames: no data frame larger than one noise message holds', () => {
  it(`cuts 3 MiB sent at once into frames of at most ${STREAM_CHUNK_BYTES} bytes, intact (stock yamux: frames as large as the window)`, async () => {
    capYamuxFrames(STREAM_CHUNK_BYTES)
    const [outbound, inbound] = multiaddrConnectionPair()
    const frames = watchFramesSentOn(outbound)
    const sender = yamux({ enableKeepAlive: false })().createStreamMuxer(outbound)
    const receiver = yamux({ enableKeepAlive: false })().createStreamMuxer(inbound)
    try {
      const received = new Promise<Buffer>(resolve => {
        receiver.addEventListener('stream', ({ detail }) => { resolve(digestOfInbound(detail)) }, { once: true })
      })
      const payload = randomBytes(PAYLOAD_BYTES)
      const stream = await sender.createStream()
      stream.send(payload)
      await stream.close()
      assert.deepEqual(await within('3 MiB through the stream', 20_000, received), createHash('sha256').update(payload).digest())
      assert.equal(frames.dataBytes.reduce((sum, bytes) => sum + bytes, 0), PAYLOAD_BYTES)
      assert.equal(Math.max(...frames.dataBytes), STREAM_CHUNK_BYTES)
    } finally {
      sender.abort(new Error('test over'))
      receiver.abort(new Error('test over'))
    }
  })
})
