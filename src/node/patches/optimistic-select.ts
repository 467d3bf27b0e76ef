import { UnsupportedProtocolError } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { assertPinned } from './pinned.ts'
import type { CreateStreamOptions, NewStreamOptions, Stream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

const MULTISTREAM_HEADER = '/multistream/1.0.0'

/** Where a libp2p stream (an AbstractMessageStream) takes in what its transport received. */
interface Receiver {
  onData(data: Uint8Array | Uint8ArrayList): void
}

/**
 * Optimistic multistream-select (go-libp2p's and rust-libp2p's "lazy" select) for the
 * streams a muxer opens with `negotiateFully: false`. js-libp2p 3 documents that option
 * but always waits for the protocol's confirmation before it returns a stream: a round
 * trip before the first byte. libp2p skips its own negotiation for a stream the muxer
 * has pre-negotiated (`CreateStreamOptions.protocol`), so this muxer does it that way:
 * it writes the header and the protocol id as the stream's first bytes, returns the
 * stream at once (whatever the caller sends follows in the same flight), and takes the
 * responder's echo of both off the front of what the stream receives. Any other answer
 * (`na`: the protocol is not spoken there) aborts the stream with UnsupportedProtocolError.
 * The bytes on the wire are those of an ordinary negotiation; responders see no difference.
 * Pinned to libp2p's release: if its connection negotiated such a stream again, the
 * responder's echo would reach the tunnel as data.
 */
export function optimisticSelect<M extends StreamMuxer> (muxerFactory: () => StreamMuxerFactory<M>): () => StreamMuxerFactory<M> {
  assertPinned('optimistic select', 'libp2p')
  return () => {
    const factory = muxerFactory()
    return {
      protocol: factory.protocol,
      createStreamMuxer (maConn) {
        const muxer = factory.createStreamMuxer(maConn)
        const createStream = muxer.createStream.bind(muxer)
        muxer.createStream = async (options?: CreateStreamOptions & NewStreamOptions) => {
          const stream = await createStream(options)
          if (options?.negotiateFully === false && options.protocol != null && stream.protocol === '') selectOptimistically(stream as Stream & Receiver, options.protocol)
          return stream
        }
        return muxer
      }
    }
  }
}

function selectOptimistically (stream: Stream & Receiver, protocol: string): void {
  const header = lengthPrefixed(`${MULTISTREAM_HEADER}\n`)
  const proposal = new Uint8ArrayList(header, lengthPrefixed(`${protocol}\n`))
  stream.send(proposal)
  stream.protocol = protocol
  // a responder that speaks the protocol echoes the proposal, byte for byte
  const echo = proposal.subarray()
  const received = new Uint8ArrayList()
  const onData = stream.onData
  stream.onData = (data) => {
    received.append(data)
    const compared = Math.min(received.byteLength, echo.byteLength)
    const confirmed = equals(received.subarray(0, compared), echo.subarray(0, compared))
    if (confirmed && compared < echo.byteLength) return
    delete (stream as Partial<Receiver>).onData
    if (!confirmed) {
      // past the header, multistream-select's only other answer is na
      const spokeHeader = received.byteLength > header.byteLength && equals(received.subarray(0, header.byteLength), header)
      stream.abort(new UnsupportedProtocolError(spokeHeader
        ? `the peer does not speak ${protocol}`
        : `the peer answered the multistream-select proposal for ${protocol} with ${JSON.stringify(printable(received.subarray()))}`))
      return
    }
    received.consume(echo.byteLength)
    if (received.byteLength > 0) onData.call(stream, received)
  }
}

/** A multistream-select message: its length as an unsigned varint (protocol ids are at most 1024 bytes: two bytes of it at most), then the text. */
function lengthPrefixed (text: string): Uint8Array {
  const bytes = fromString(text)
  const length = bytes.byteLength < 0x80 ? [bytes.byteLength] : [(bytes.byteLength & 0x7f) | 0x80, bytes.byteLength >> 7]
  const message = new Uint8Array(length.length + bytes.byteLength)
  message.set(length)
  message.set(bytes, length.length)
  return message
}

function printable (bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1')
}
