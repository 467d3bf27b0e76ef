import { randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { equals } from 'uint8arrays/equals'
import type { Connection } from '@libp2p/interface'

/** @libp2p/ping's protocol and payload size: every mesh node answers it */
const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_LENGTH = 32

/**
 * One ping over this very connection (libp2p's ping service picks a connection itself):
 * resolves when the far end echoes 32 random bytes, rejects otherwise or on `signal`.
 */
export async function probeConnection (connection: Connection, signal: AbortSignal): Promise<void> {
  const stream = await connection.newStream(PING_PROTOCOL, { signal })
  try {
    const data = randomBytes(PING_LENGTH)
    const received = new Uint8ArrayList()
    const echoed = new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      stream.addEventListener('message', event => {
        received.append(event.data)
        if (received.byteLength < PING_LENGTH) return
        signal.removeEventListener('abort', onAbort)
        if (equals(received.subarray(0, PING_LENGTH), data)) resolve()
        else reject(new Error('the ping came back altered'))
      })
      stream.addEventListener('close', () => { reject(new Error('the ping stream closed before the echo')) }, { once: true })
    })
    stream.send(data)
    await echoed
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
