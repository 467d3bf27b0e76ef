/**
 * Connection encryption, `npm run bench -- encryption`: what each layer carries alone,
 * so that the choice between noise and TLS 1.3 (`connections.encryption`) rests on
 * figures, not on the ciphers' reputations.
 *
 * 1. One js-libp2p stream between two nodes built by createMeshNode (this node's
 *    transports and tuning) in this one process, 256 MiB in 64 KiB writes, over noise
 *    and over TLS 1.3, in alternating rounds.
 * 2. Node's own TLS 1.3 (AES-256-GCM) between two sockets of this process, 1 GiB: over a
 *    plain `net.Socket`, and over a JavaScript duplex around it, the way @libp2p/tls
 *    wraps libp2p's TCP stream.
 *
 * The part runs with the daemon's V8 flags (src/daemon/v8-flags.ts), as the nodes in a
 * daemon would.
 */

import { connect as netConnect, createServer } from 'node:net'
import { Duplex } from 'node:stream'
import { connect as tlsConnect, TLSSocket } from 'node:tls'
import { execWithDaemonFlags } from '../src/daemon/v8-flags.ts'
import { selfSignedCertificate } from './lib/certificate.ts'
import { startInProcessNode } from '../test/helpers/mesh-node.ts'
import { runPart } from './lib/part.ts'
import { progress } from './lib/setup.ts'
import { median, rotate, round } from './lib/stats.ts'
import type { Scope } from './lib/setup.ts'
import type { Config } from '../src/config/schema.ts'
import type { InProcessNode } from '../test/helpers/mesh-node.ts'
import type { Socket } from 'node:net'

execWithDaemonFlags()

const ROUNDS = 3
const STREAM_BYTES = 256 * 2 ** 20
const TLS_BYTES = 2 ** 30
const CHUNK = new Uint8Array(64 * 1024)
const PROTOCOL = '/agentmesh-bench/sink/1.0.0'
const ENCRYPTIONS = ['noise', 'tls'] as const

/** MB/s of one stream from a node to another, both with only `encryption`. */
async function streamMBps (scope: Scope, encryption: Config['connections']['encryption'][number]): Promise<number> {
  const node = async (): Promise<InProcessNode['node']> => {
    const started = await startInProcessNode(() => true, undefined, { AGENTMESH_CONNECTIONS_ENCRYPTION: encryption })
    scope.defer(async () => started.stop())
    return started.node
  }
  const [receiver, sender] = [await node(), await node()]
  const received = Promise.withResolvers<void>()
  await receiver.handle(PROTOCOL, async stream => {
    let bytes = 0
    for await (const chunk of stream) bytes += chunk.byteLength
    if (bytes === STREAM_BYTES) received.resolve()
    else received.reject(new Error(`received ${bytes} of ${STREAM_BYTES} bytes`))
  })
  const connection = await sender.dial(receiver.getMultiaddrs()[0]!)
  if (connection.encryption !== (encryption === 'tls' ? '/tls/1.0.0' : '/noise')) throw new Error(`connected with ${connection.encryption}, not ${encryption}`)
  const stream = await connection.newStream(PROTOCOL)
  const started = performance.now()
  for (let sent = 0; sent < STREAM_BYTES; sent += CHUNK.byteLength) {
    if (!stream.send(CHUNK)) await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
  }
  await stream.close()
  await received.promise
  return STREAM_BYTES / ((performance.now() - started) / 1000) / 1e6
}

/** A JavaScript duplex around a socket, as @libp2p/tls's toNodeDuplex wraps libp2p's stream. */
function jsDuplex (socket: Socket): Duplex {
  const duplex = new Duplex({
    write (chunk, _encoding, callback) { if (socket.write(chunk)) callback(); else socket.once('drain', () => { callback() }) },
    read () { socket.resume() },
    final (callback) { socket.end(); callback() }
  })
  socket.on('data', chunk => { if (!duplex.push(chunk)) socket.pause() })
  socket.on('end', () => duplex.push(null))
  return duplex
}

/** MB/s of Node's TLS 1.3 from one socket of this process to another, directly on the sockets or through jsDuplex. */
async function tlsMBps (credentials: { key: string, cert: string }, wrapped: boolean): Promise<number> {
  const done = Promise.withResolvers<void>()
  const server = createServer(socket => {
    const secure = new TLSSocket(wrapped ? jsDuplex(socket) as unknown as Socket : socket, { isServer: true, ...credentials, minVersion: 'TLSv1.3' })
    let bytes = 0
    secure.on('data', chunk => { bytes += chunk.byteLength; if (bytes >= TLS_BYTES) done.resolve() })
    secure.on('error', err => { done.reject(err) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const raw = netConnect((server.address() as { port: number }).port, '127.0.0.1')
  await new Promise(resolve => raw.once('connect', resolve))
  const client = tlsConnect({ socket: wrapped ? jsDuplex(raw) as unknown as Socket : raw, rejectUnauthorized: false, minVersion: 'TLSv1.3' })
  try {
    await new Promise(resolve => client.once('secureConnect', resolve))
    const started = performance.now()
    for (let sent = 0; sent < TLS_BYTES; sent += CHUNK.byteLength) {
      if (!client.write(CHUNK)) await new Promise(resolve => client.once('drain', resolve))
    }
    await done.promise
    return TLS_BYTES / ((performance.now() - started) / 1000) / 1e6
  } finally {
    client.destroy()
    raw.destroy()
    server.close()
  }
}

await runPart(async scope => {
  const stream: Record<string, number[]> = { noise: [], tls: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const encryption of rotate([...ENCRYPTIONS], round)) {
      const value = await streamMBps(scope, encryption)
      stream[encryption]?.push(value)
      progress('encryption', `round ${round + 1}/${ROUNDS}, one stream over ${encryption}: ${value.toFixed(0)} MB/s`)
    }
  }
  const credentials = await selfSignedCertificate(scope)
  const tls: Record<string, number[]> = { socket: [], jsDuplex: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const wrapped of rotate([false, true], round)) {
      const value = await tlsMBps(credentials, wrapped)
      tls[wrapped ? 'jsDuplex' : 'socket']?.push(value)
      progress('encryption', `round ${round + 1}/${ROUNDS}, Node TLS 1.3 ${wrapped ? 'over a JavaScript duplex' : 'on the socket'}: ${value.toFixed(0)} MB/s`)
    }
  }
  return {
    results: {
      rounds: ROUNDS,
      streamMiB: STREAM_BYTES / 2 ** 20,
      oneStreamMBps: Object.fromEntries(ENCRYPTIONS.map(encryption => [encryption, round(median(stream[encryption] ?? []), 0)])),
      nodeTlsMBps: { socket: round(median(tls.socket ?? []), 0), jsDuplex: round(median(tls.jsDuplex ?? []), 0) }
    },
    targets: []
  }
})
