import type { Logger } from './logger.ts'

/** How many keys are remembered before the memory starts over: a peer cannot grow it without end. */
const MAX_KEYS = 10_000

/** Warns once per key (a record's hash and its error, say), however often the same thing is seen. */
export class LogOnce {
  private readonly log: Logger
  private readonly seen = new Set<string>()

  constructor (log: Logger) {
    this.log = log
  }

  warn (key: string, context: object, message: string): void {
    if (this.seen.has(key)) return
    if (this.seen.size > MAX_KEYS) this.seen.clear()
    this.seen.add(key)
    this.log.warn(context, message)
  }
}
