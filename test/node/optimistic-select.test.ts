import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { yamux } from '@chainsafe/libp2p-yamux'
import { handle } from '@libp2p/multistream-select'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { optimisticSelect } from '../../src/node/patches/optimistic-select.ts'
import { within } from '../helpers/services/within.ts'
import type { CreateStreamOptions, NewStreamOptions, Stream, StreamMuxer } from '@libp2p/interface'

const PROTOCOL = '/agentmesh/test/1.0.0'
/** what libp2p's Connection.newStream hands its muxer for `newStream(PROTOCOL, { negotiateFully: false })` */
const OPTIMISTIC: CreateStreamOptions & NewStreamOptions = { protocol: PROTOCOL, negotiateFully: false }

/** An opener whose muxer selects optimistically and a responder with stock yamux, over an in-memory connection. */
function muxerPair (): { opener: StreamMuxer, responder: StreamMuxer, close(): void } {
  const [outbound, inbound] = multiaddrConnectionPair()
  const opener = optimisticSelect(yamux({ enableKeepAlive: false }))().createStreamMuxer(outbound)
  const responder = yamux({ enableKeepAlive: false })().createStreamMuxer(inbound)
  return {
    opener,
    responder,
    close () {
      opener.abort(new Error('test over'))
      responder.abort(new Error('test over'))
    }
  }
}

function nextMessage (stream: Stream): Promise<string> {
  return new Promise((resolve, reject) => {
    stream.addEventListener('message', event => { resolve(Buffer.from(event.data.subarray()).toString()) }, { once: true })
    stream.addEventListener('close', event => { reject(event.error ?? new Error('closed')) }, { once: true })
  })
}

function nextInboundStream (muxer: StreamMuxer): Promise<Stream> {
  return new Promise(resolve => muxer.addEventListener('stream', event => { resolve(event.detail) }, { once: true }))
}

/** Opens a stream optimistically, lets the responder answer with `answer`, and returns the error the opener's stream closes with. */
async function closeErrorAfter (answer: (inbound: Stream) => void, send?: string): Promise<Error | undefined> {
  const { opener, responder, close } = muxerPair()
  try {
    const inbound = nextInboundStream(responder)
    const stream = await opener.createStream(OPTIMISTIC)
    const closed = new Promise<Error | undefined>(resolve => stream.addEventListener('close', event => { resolve(event.error) }, { once: true }))
    if (send != null) stream.send(Buffer.from(send))
    answer(await inbound)
    return await within('the stream to close', 5_000, closed)
  } finally {
    close()
  }
}

describe('optimisticSelect: multistream-select without waiting for the echo, on negotiateFully: false', () => {
  it('returns the stream before the responder has answered; the data follows the proposal, the echo never reaches the reader', async () => {
    const { opener, responder, close } = muxerPair()
    try {
      const stream = await opener.createStream(OPTIMISTIC)
      assert.equal(stream.protocol, PROTOCOL, 'libp2p sees a pre-negotiated stream and runs no negotiation of its own')
      stream.send(Buffer.from('request'))
      // only now does the responder look at its streams: nothing could have been answered before
      const inbound = await within('the inbound stream', 5_000, nextInboundStream(responder))
      assert.equal(await within('multistream-select on the responder', 5_000, handle(inbound, [PROTOCOL])), PROTOCOL)
      assert.equal(await within('the request', 5_000, nextMessage(inbound)), 'request')
      const reply = nextMessage(stream)
      inbound.send(Buffer.from('reply'))
      assert.equal(await within('the reply', 5_000, reply), 'reply', 'the reader sees the reply alone, without the echo in front')
    } finally {
      close()
    }
  })

  it('aborts the stream with UnsupportedProtocolError when the responder answers na', async () => {
    const error = await closeErrorAfter(inbound => { void handle(inbound, ['/agentmesh/other/1.0.0']).catch(() => {}) }, 'request')
    assert.equal(error?.name, 'UnsupportedProtocolError')
    assert.equal(error.message, `the peer does not speak ${PROTOCOL}`)
  })

  it('aborts the stream, quoting the answer, when the responder does not speak multistream-select', async () => {
    const error = await closeErrorAfter(inbound => { inbound.send(Buffer.from('HTTP/1.1 400 Bad Request\r\n')) })
    assert.equal(error?.name, 'UnsupportedProtocolError')
    assert.match(error.message, /answered the multistream-select proposal for \/agentmesh\/test\/1\.0\.0 with "HTTP\/1\.1 400/)
  })

  it('leaves a stream opened without negotiateFully: false to libp2p\'s own negotiation', async () => {
    const { opener, close } = muxerPair()
    try {
      assert.equal((await opener.createStream({ protocol: PROTOCOL })).protocol, '')
    } finally {
      close()
    }
  })
})
