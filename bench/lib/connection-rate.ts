/** New connections per second: many clients at once, each opening short echo connections one after another. */

import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { since } from './stats.ts'

/** what each connection sends and must read back */
const PAYLOAD = Buffer.from('agentmesh bench\n')
const TIMEOUT_MS = 10_000
/** a client whose connection failed waits this long before the next, so that a refusing path is not hammered */
const PAUSE_AFTER_FAILURE_MS = 10

export interface ConnectionRate {
  /** connections completed (payload echoed back) per second of the run */
  perSecond: number
  completed: number
  failed: number
  /** failures by error code (or message) */
  errors: Record<string, number>
}

/** One connection to 127.0.0.1:port: connect, send the payload, read it all back, close. */
async function echoOnce (port: number): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => { socket.write(PAYLOAD) })
  try {
    await new Promise<void>((resolve, reject) => {
      let received = 0
      socket.setTimeout(TIMEOUT_MS, () => { reject(new Error('timeout')) })
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received >= PAYLOAD.length) resolve()
      })
      socket.once('error', reject)
      socket.once('close', () => { reject(new Error('closed before the echo')) })
    })
  } finally {
    socket.destroy()
  }
}

/**
 * `clients` loops at once, each opening connections to 127.0.0.1:port one after another
 * until `seconds` have passed (the connections under way then are finished and counted).
 */
export async function connectionRate (port: number, clients: number, seconds: number): Promise<ConnectionRate> {
  const started = performance.now()
  const deadline = started + seconds * 1000
  const rate: ConnectionRate = { perSecond: 0, completed: 0, failed: 0, errors: {} }
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        await echoOnce(port)
        rate.completed++
      } catch (err: any) {
        rate.failed++
        const code = err.code ?? err.message
        rate.errors[code] = (rate.errors[code] ?? 0) + 1
        await sleep(PAUSE_AFTER_FAILURE_MS)
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  rate.perSecond = rate.completed / (since(started) / 1000)
  return rate
}
