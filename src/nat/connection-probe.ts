import { randomBytes } from 'node:crypto'
import { byteStream } from '@libp2p/utils'
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
    const bytes = byteStream(stream)
    const data = randomBytes(PING_LENGTH)
    await bytes.write(data, { signal })
    const echo = await bytes.read({ bytes: PING_LENGTH, signal })
    if (!equals(echo.subarray(), data)) throw new Error('the ping came back altered')
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
