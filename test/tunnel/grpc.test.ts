/**
 * gRPC through a tunnel: an @grpc/grpc-js client on B's side, an
 * @grpc/grpc-js server behind `expose --proto grpc` on A's side, over one
 * HTTP/2 connection and so one tunnel.
 */

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { waitFor } from '../helpers/daemon.ts'
import { Digest, KiB, deterministicBytes } from '../helpers/services/data.ts'
import { countPayload, echoClient, grpcStatus, startGrpcService } from '../helpers/services/grpc.ts'
import { expose, forward, startTrustedPair } from '../helpers/services/mesh.ts'
import { within } from '../helpers/services/within.ts'
import type { EchoReply, GrpcService } from '../helpers/services/grpc.ts'
import type { Forward, Pair } from '../helpers/services/mesh.ts'
import type { Client } from '@grpc/grpc-js'

const STREAMED = 10_000
const STREAMED_SIZE = 256

function deadline (ms: number): Date {
  return new Date(Date.now() + ms)
}

describe('gRPC through a tunnel, with @grpc/grpc-js on both ends', () => {
  let pair: Pair | undefined
  let grpc: GrpcService | undefined
  let client: (Client & Record<string, any>) | undefined
  let fwd: Forward

  async function unary (method: 'Unary' | 'Hang', request: object, ms: number): Promise<EchoReply> {
    return new Promise((resolve, reject) => {
      client![method](request, { deadline: deadline(ms) }, (err: Error | null, reply: EchoReply) => { err == null ? resolve(reply) : reject(err) })
    })
  }

  before(async () => {
    grpc = await startGrpcService()
    pair = await startTrustedPair()
    await expose(pair.a, 'echo', grpc.target, 'grpc')
    fwd = await forward(pair.b, pair.aId, 'echo')
    client = echoClient(fwd.port)
  })

  after(async () => {
    client?.close()
    await Promise.all([pair?.a.destroy(), pair?.b.destroy(), grpc?.close()])
  })

  it('unary calls', async () => {
    const payload = deterministicBytes('grpc unary', 64 * KiB)
    const reply = await unary('Unary', { text: 'hello', payload, seq: 7 }, 20_000)
    assert.equal(reply.text, 'hello')
    assert.equal(reply.seq, 7)
    assert.ok(payload.equals(reply.payload), 'the 64 KiB payload comes back intact')
    for (let i = 0; i < 50; i++) {
      const small = await unary('Unary', { text: `call ${i}`, seq: i }, 5_000)
      assert.equal(small.text, `call ${i}`)
    }
  })

  it(`server streaming of ${STREAMED} messages, in order and intact`, async () => {
    const expected = new Digest()
    for (let seq = 0; seq < STREAMED; seq++) expected.update(countPayload(seq, STREAMED_SIZE))
    const received = new Digest()
    let next = 0
    await within('the stream to end', 60_000, new Promise<void>((resolve, reject) => {
      const call = client!.Count({ count: STREAMED, size: STREAMED_SIZE }, { deadline: deadline(60_000) })
      call.on('data', (reply: EchoReply) => {
        if (reply.seq !== next) {
          call.cancel()
          reject(new Error(`message ${next} expected, ${reply.seq} received`))
        }
        next++
        received.update(reply.payload)
      })
      call.on('error', reject)
      call.on('end', resolve)
    }))
    assert.equal(next, STREAMED)
    assert.equal(received.bytes, STREAMED * STREAMED_SIZE)
    assert.equal(received.hex(), expected.hex())
  })

  it('bidirectional streaming: ping-pong, then a burst', async () => {
    const call = client!.Chat({ deadline: deadline(60_000) })
    const replies: EchoReply[] = []
    let waiting: ((reply: EchoReply) => void) | undefined
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (reply: EchoReply) => {
        replies.push(reply)
        waiting?.(reply)
      })
      call.on('error', reject)
      call.on('end', resolve)
    })
    // one message in flight at a time: each answer must come back without waiting for more data behind it
    for (let seq = 0; seq < 100; seq++) {
      const answered = new Promise<EchoReply>(resolve => { waiting = resolve })
      call.write({ text: `ping ${seq}`, seq })
      const reply = await within(`the answer to ping ${seq}`, 5_000, answered)
      assert.equal(reply.seq, seq)
      assert.equal(reply.text, `ping ${seq}`)
    }
    waiting = undefined
    const burst = 1_000
    for (let seq = 100; seq < 100 + burst; seq++) call.write({ text: `burst ${seq}`, payload: deterministicBytes(`chat ${seq}`, 1 * KiB), seq })
    call.end()
    await within('the chat to end', 30_000, ended)
    assert.equal(replies.length, 100 + burst)
    replies.forEach((reply, index) => { assert.equal(reply.seq, index) })
    for (const reply of replies.slice(100)) assert.ok(reply.payload.equals(deterministicBytes(`chat ${reply.seq}`, 1 * KiB)), `payload of ${reply.seq}`)
  })

  it('a deadline exceeded on the client reaches the server as a cancelled call', async () => {
    const started = Date.now()
    await assert.rejects(unary('Hang', { text: 'deadline' }, 1_000), (err: any) => {
      assert.equal(err.code, grpcStatus.DEADLINE_EXCEEDED, `DEADLINE_EXCEEDED, got ${err.code}: ${err.message}`)
      return true
    })
    assert.ok(Date.now() - started < 5_000, 'the client gives up at its deadline')
    const seen = await within('the server to see the call cancelled', 10_000, grpc!.cancelled('deadline'))
    assert.ok(seen.ms < 6_000, `the server saw it cancelled ${seen.ms} ms after it began`)
  })

  it('a cancel by the client reaches the server', async () => {
    let call: any
    const failed = new Promise<any>(resolve => {
      call = client!.Hang({ text: 'cancel' }, { deadline: deadline(60_000) }, (err: any) => { resolve(err) })
    })
    await waitFor('the call to reach the server', async () => grpc!.hanging.has('cancel'), 10_000, 50)
    const cancelledAt = Date.now()
    call.cancel()
    const err = await within('the client call to end', 5_000, failed)
    assert.equal(err?.code, grpcStatus.CANCELLED)
    await within('the server to see the call cancelled', 5_000, grpc!.cancelled('cancel'))
    assert.ok(Date.now() - cancelledAt < 5_000, 'promptly')
    assert.equal(grpc!.hanging.size, 0, 'no call left hanging on the server')
  })
})
