import { RECENT_EVENTS, SUBSCRIBER_QUEUE } from './constants.ts'
import type { MeshEvent, MeshEventFields, MeshEventType } from './types.ts'

export type EventListener = (event: MeshEvent) => void

export interface EventBusComponents {
  log: { warn(context: object, message: string): void }
}

/**
 * The daemon's typed event bus: parts of the daemon call `emit(type, fields)`; the
 * control API's stream, the webhook and the dashboard listen. `emit` is synchronous and
 * never throws: a listener that throws is logged and the others still run, and every
 * consumer queues on its own, bounded, so nothing a consumer does blocks the emitter.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>()
  private readonly recentEvents: MeshEvent[] = []
  private readonly components: EventBusComponents
  private seq = 0

  constructor (components: EventBusComponents) {
    this.components = components
  }

  emit<T extends MeshEventType> (type: T, fields: MeshEventFields[T]): void {
    const event = { seq: ++this.seq, time: new Date().toISOString(), type, ...fields } as unknown as MeshEvent
    this.recentEvents.push(event)
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift()
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (err: any) {
        this.components.log.warn({ err: err?.message, type }, 'an event listener failed')
      }
    }
  }

  /** Calls `listener` with every event from now on; returns the function that stops it. */
  subscribe (listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** The kept events with a `seq` above `after` (all kept ones for 0), oldest first. */
  recent (after = 0): MeshEvent[] {
    return this.recentEvents.filter(event => event.seq > after)
  }

  /**
   * The events with a `seq` above `after` that are still kept (none when undefined),
   * then every new one until `signal` aborts. A consumer that falls SUBSCRIBER_QUEUE
   * events behind loses the oldest, and is told so by an `events.dropped` event.
   */
  async * stream (signal: AbortSignal, after?: number): AsyncGenerator<MeshEvent> {
    const queue: MeshEvent[] = after == null ? [] : this.recent(after)
    let dropped = 0
    let wake: (() => void) | undefined
    const unsubscribe = this.subscribe(event => {
      queue.push(event)
      if (queue.length > SUBSCRIBER_QUEUE) {
        queue.shift()
        dropped++
      }
      wake?.()
    })
    const onAbort = (): void => { wake?.() }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      while (!signal.aborted) {
        const next = queue.shift()
        if (next == null) {
          await new Promise<void>(resolve => { wake = resolve })
          wake = undefined
          continue
        }
        if (dropped > 0) {
          // in the place of the lost events: the seq of the last of them
          yield { seq: next.seq - 1, time: next.time, type: 'events.dropped', count: dropped }
          dropped = 0
        }
        yield next
      }
    } finally {
      unsubscribe()
      signal.removeEventListener('abort', onAbort)
    }
  }
}
