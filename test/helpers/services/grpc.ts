/**
 * The gRPC fixture: echo.proto served and called with @grpc/grpc-js over
 * plaintext HTTP/2 on 127.0.0.1. The server remembers which `Hang` calls it
 * saw cancelled, so a test can check that a client's cancel or deadline
 * reached the far end.
 */

import { join } from 'node:path'
import { credentials, loadPackageDefinition, Server, ServerCredentials, status } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { deterministicBytes } from './data.ts'
import type { Client, ServerDuplexStream, ServerUnaryCall, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js'

export const PROTO_PATH = join(import.meta.dirname, 'echo.proto')

export interface EchoRequest { text: string, payload: Buffer, seq: number }
export interface EchoReply { text: string, payload: Buffer, seq: number }
export interface CountRequest { count: number, size: number }

/** The bytes of reply `seq` of a `Count` stream with `size`-byte payloads. */
export function countPayload (seq: number, size: number): Buffer {
  return deterministicBytes(`count ${seq}`, size)
}

const definition = loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true })
const echoService = (loadPackageDefinition(definition) as any).agentmesh.test.Echo

export interface GrpcService {
  readonly port: number
  readonly target: string
  /** resolves when the server sees the `Hang` call with this text cancelled */
  cancelled(text: string): Promise<{ ms: number }>
  /** texts of the `Hang` calls in progress on the server */
  readonly hanging: Set<string>
  close(): Promise<void>
}

export async function startGrpcService (): Promise<GrpcService> {
  const hanging = new Set<string>()
  const seen = new Map<string, { ms: number }>()
  const waiters = new Map<string, Array<(value: { ms: number }) => void>>()
  const server = new Server()
  server.addService(echoService.service, {
    Unary (call: ServerUnaryCall<EchoRequest, EchoReply>, callback: sendUnaryData<EchoReply>) {
      callback(null, { text: call.request.text, payload: call.request.payload, seq: call.request.seq })
    },
    Count (call: ServerWritableStream<CountRequest, EchoReply>) {
      const { count, size } = call.request
      let seq = 0
      const pump = (): void => {
        while (seq < count && !call.cancelled) {
          const ok = call.write({ text: '', payload: countPayload(seq, size), seq })
          seq++
          if (!ok) {
            call.once('drain', pump)
            return
          }
        }
        if (!call.cancelled) call.end()
      }
      pump()
    },
    Chat (call: ServerDuplexStream<EchoRequest, EchoReply>) {
      call.on('data', (request: EchoRequest) => { call.write({ text: request.text, payload: request.payload, seq: request.seq }) })
      call.on('end', () => { call.end() })
      call.on('error', () => {})
    },
    Hang (call: ServerUnaryCall<EchoRequest, EchoReply>, callback: sendUnaryData<EchoReply>) {
      const text = call.request.text
      const started = Date.now()
      hanging.add(text)
      call.once('cancelled', () => {
        hanging.delete(text)
        const value = { ms: Date.now() - started }
        seen.set(text, value)
        for (const resolve of waiters.get(text) ?? []) resolve(value)
        waiters.delete(text)
      })
      // never answered; a callback after cancel is ignored by grpc-js
      void callback
    }
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => { err == null ? resolve(bound) : reject(err) })
  })
  return {
    port,
    target: `127.0.0.1:${port}`,
    hanging,
    async cancelled (text) {
      const known = seen.get(text)
      if (known != null) return known
      return new Promise(resolve => { waiters.set(text, [...waiters.get(text) ?? [], resolve]) })
    },
    async close () {
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { server.forceShutdown(); resolve() }, 2_000)
        server.tryShutdown(() => { clearTimeout(timer); resolve() })
      })
    }
  }
}

/** A client of the Echo service on 127.0.0.1:port (one HTTP/2 connection, so one tunnel). */
export function echoClient (port: number): Client & Record<string, any> {
  return new echoService(`127.0.0.1:${port}`, credentials.createInsecure(), {
    // no retries or reconnection backoff games hiding a broken tunnel
    'grpc.enable_retries': 0,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 1_000
  })
}

export { status as grpcStatus }
