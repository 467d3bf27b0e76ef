import type { TunnelLog } from '../../protocols/tunnel/index.ts'

export interface RepeatLimitInit {
  /** lines of one kind from one peer logged per window; past them, counted */
  burst: number
  /** the window, in milliseconds; at its end one line says how many were suppressed */
  windowMs: number
  /** (peer, kind) pairs followed at once; past that, the rest share one entry */
  maxKeys?: number
}

interface Entry {
  windowEnds: number
  lines: number
  suppressed: number
  timer?: NodeJS.Timeout
  context: object
  kind: string
}

type Level = 'info' | 'warn'

const DEFAULT_MAX_KEYS = 4096

/**
 * A log that a hostile or broken peer cannot flood: the warnings (and info lines) of
 * one kind from one peer are logged `burst` times per window, then counted, and one
 * line at the end of the window says how many were suppressed. The kind is the
 * message up to its first ':' and the context's `status` or `error`; the peer is the
 * context's `peer` (or `listen`). Debug lines pass as they are.
 */
export class RepeatLimitedLog implements TunnelLog {
  private readonly target: TunnelLog
  private readonly init: Required<RepeatLimitInit>
  private readonly entries = new Map<string, Entry>()

  constructor (target: TunnelLog, init: RepeatLimitInit) {
    this.target = target
    this.init = { maxKeys: DEFAULT_MAX_KEYS, ...init }
  }

  debug (context: object, message: string): void {
    this.target.debug(context, message)
  }

  info (context: object, message: string): void {
    this.log('info', context, message)
  }

  warn (context: object, message: string): void {
    this.log('warn', context, message)
  }

  /** Logs the suppressed counts now and forgets every entry (at stop). */
  flush (): void {
    for (const [key, entry] of this.entries) this.end(key, entry)
  }

  private log (level: Level, context: object, message: string): void {
    const fields = context as Record<string, unknown>
    const kind = `${message.split(':', 1)[0]}${fields.status != null ? ` (${String(fields.status)})` : fields.error != null ? ` (${String(fields.error)})` : ''}`
    let key = `${level}|${String(fields.peer ?? fields.listen ?? '')}|${kind}`
    const now = Date.now()
    let entry = this.entries.get(key)
    if (entry != null && now >= entry.windowEnds) {
      this.end(key, entry)
      entry = undefined
    }
    if (entry == null) {
      if (this.entries.size >= this.init.maxKeys) this.sweep(now)
      if (this.entries.size >= this.init.maxKeys) {
        key = `${level}|*|too many peers and kinds at once`
        entry = this.entries.get(key)
      }
      if (entry == null) {
        entry = { windowEnds: now + this.init.windowMs, lines: 0, suppressed: 0, context: { peer: fields.peer, listen: fields.listen }, kind }
        this.entries.set(key, entry)
      }
    }
    if (entry.lines < this.init.burst) {
      entry.lines++
      this.target[level](context, message)
      return
    }
    entry.suppressed++
    if (entry.timer == null) {
      const ended = entry
      const endKey = key
      entry.timer = setTimeout(() => { this.end(endKey, ended) }, Math.max(0, entry.windowEnds - now))
      entry.timer.unref()
    }
  }

  private end (key: string, entry: Entry): void {
    clearTimeout(entry.timer)
    if (this.entries.get(key) === entry) this.entries.delete(key)
    if (entry.suppressed > 0) {
      this.target.warn({ ...entry.context, kind: entry.kind, suppressed: entry.suppressed, windowSeconds: this.init.windowMs / 1000 },
        `${entry.suppressed} more log lines like "${entry.kind}" suppressed (at most ${this.init.burst} per ${this.init.windowMs / 1000} s per peer and kind)`)
    }
  }

  private sweep (now: number): void {
    for (const [key, entry] of this.entries) {
      if (now >= entry.windowEnds) this.end(key, entry)
    }
  }
}
