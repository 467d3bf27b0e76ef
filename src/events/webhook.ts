import { setTimeout as sleep } from 'node:timers/promises'
import { USER_AGENT } from '../version.ts'
import { WEBHOOK_QUEUE_DEFAULT, WEBHOOK_RETRY_FIRST_MS, WEBHOOK_RETRY_MAX_MS, WEBHOOK_TIMEOUT_MS } from './constants.ts'
import type { EventBus } from './bus.ts'
import type { MeshEvent } from './types.ts'

export interface WebhookInit {
  url: string
  /** events waiting at most; past it the oldest are dropped */
  queue?: number
  /** retries of one event after its first attempt fails (a network error, a timeout, 408, 429 or 5xx) */
  retries: number
  /** first backoff, doubling up to WEBHOOK_RETRY_MAX_MS (tests shorten it) */
  retryFirstMs?: number
}

export interface WebhookComponents {
  bus: EventBus
  log: { warn(context: object, message: string): void }
  /** told of each event delivered, given up on, or dropped from a full queue */
  outcome?(result: 'delivered' | 'failed' | 'dropped'): void
}

/**
 * POSTs every event, as the JSON object `agentmesh events --json` prints, to a URL, one
 * at a time and in order. Events wait in a bounded queue: a slow or dead receiver costs
 * at most that queue, never blocks the bus, and each event is retried with backoff
 * before it is given up (and logged).
 */
export class WebhookSink {
  private readonly init: Required<WebhookInit>
  private readonly components: WebhookComponents
  private readonly queue: MeshEvent[] = []
  private readonly stopping = new AbortController()
  private unsubscribe?: () => void
  private running?: Promise<void>

  constructor (components: WebhookComponents, init: WebhookInit) {
    this.components = components
    this.init = { queue: WEBHOOK_QUEUE_DEFAULT, retryFirstMs: WEBHOOK_RETRY_FIRST_MS, ...init }
  }

  start (): void {
    this.unsubscribe = this.components.bus.subscribe(event => {
      this.queue.push(event)
      if (this.queue.length > this.init.queue) {
        this.queue.shift()
        this.components.outcome?.('dropped')
      }
      this.running ??= this.drain().finally(() => { this.running = undefined })
    })
  }

  async stop (): Promise<void> {
    this.unsubscribe?.()
    this.stopping.abort()
    await this.running
  }

  private async drain (): Promise<void> {
    for (let event = this.queue.shift(); event != null && !this.stopping.signal.aborted; event = this.queue.shift()) {
      const error = await this.deliver(event)
      this.components.outcome?.(error == null ? 'delivered' : 'failed')
      if (error != null && !this.stopping.signal.aborted) {
        this.components.log.warn({ url: this.init.url, seq: event.seq, type: event.type }, `webhook: event given up after ${this.init.retries + 1} attempts: ${error}`)
      }
    }
  }

  /** undefined once delivered, else why the last attempt failed */
  private async deliver (event: MeshEvent): Promise<string | undefined> {
    const body = JSON.stringify(event)
    let error = ''
    for (let attempt = 0; attempt <= this.init.retries; attempt++) {
      if (attempt > 0) {
        const delay = Math.min(this.init.retryFirstMs * 2 ** (attempt - 1), WEBHOOK_RETRY_MAX_MS)
        try {
          await sleep(delay, undefined, { signal: this.stopping.signal })
        } catch {
          return 'stopped'
        }
      }
      try {
        const res = await fetch(this.init.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
          body,
          redirect: 'error',
          signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)])
        })
        await res.body?.cancel()
        if (res.ok) return undefined
        error = `HTTP ${res.status}`
        if (!retryable(res.status)) return error
      } catch (err: any) {
        error = err?.cause?.code ?? err?.message ?? String(err)
      }
    }
    return error
  }
}

function retryable (status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}
