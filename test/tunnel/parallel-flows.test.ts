/**
 * Four uploads at once through one forward, over each encryption: the bytes arrive
 * exact, and the forwarding daemon buffers no more than a few chunks per tunnel. libp2p
 * tells every stream of a connection it may write again whenever the connection's
 * transport drains, even a stream still holding megabytes for its yamux window; a
 * splice that took that at its word once buffered 88 MiB over TLS and had tunnels reset
 * by the memory budget (protocols/tunnel/splice.ts, resumeWhenDrained).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { cliJson } from '../helpers/daemon.ts'
import { deterministicChunks, deterministicSha256, MiB } from '../helpers/services/data.ts'
import { expose, forward, startTrustedPair } from '../helpers/services/mesh.ts'
import { connectTcp, digestUntilEnd, startTcpServer, writeChunks } from '../helpers/services/tcp.ts'
import type { Pair } from '../helpers/services/mesh.ts'
import type { TcpService } from '../helpers/services/tcp.ts'

const FLOWS = 4
const BYTES = 48 * MiB
/** a few 64 KiB chunks per tunnel; the budget's own bound is 64 MiB per peer */
const MAX_PEAK_BYTES = 8 * MiB

for (const encryption of ['tls', 'noise']) {
  describe(`${FLOWS} parallel uploads over ${encryption}`, () => {
    let pair: Pair | undefined
    let sink: TcpService | undefined

    after(async () => {
      await pair?.a.destroy()
      await pair?.b.destroy()
      await sink?.close()
    })

    it('arrive byte-exact, with the forwarding daemon\'s buffers bounded and no tunnel reset', async () => {
      const env = { AGENTMESH_CONNECTIONS_ENCRYPTION: encryption }
      pair = await startTrustedPair({ a: { env }, b: { env } })
      // a sink that reads everything and answers with the SHA-256 of what it read
      sink = await startTcpServer(socket => {
        digestUntilEnd(socket, 120_000).then(digest => { socket.end(digest.hex()) }, () => { socket.destroy() })
      })
      await expose(pair.a, 'sink', sink.target)
      const fwd = await forward(pair.b, pair.aId, 'sink')
      const answers = await Promise.all(Array.from({ length: FLOWS }, async (_, flow) => {
        const socket = await connectTcp(fwd.port)
        const answer = digestUntilEnd(socket, 120_000)
        let text = ''
        socket.on('data', chunk => { text += chunk })
        await writeChunks(socket, deterministicChunks(`flow ${flow}`, BYTES), { end: true })
        await answer
        return text
      }))
      answers.forEach((answer, flow) => { assert.equal(answer, deterministicSha256(`flow ${flow}`, BYTES), `flow ${flow}`) })
      const { tunnelBuffers } = await cliJson(pair.b.dataDir, ['status'])
      assert.equal(tunnelBuffers.resets, 0)
      assert.ok(tunnelBuffers.peakBytes <= MAX_PEAK_BYTES, `peak ${tunnelBuffers.peakBytes} bytes buffered on the forwarding side`)
    })
  })
}
