import { createRequire } from 'node:module'
import { pino } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Logger } from 'pino'
import type { PrettyOptions, PrettyStream } from 'pino-pretty'

export type { Logger }

const STDERR = 2
const require = createRequire(import.meta.url)

/**
 * The daemon's log on stderr: readable lines on a terminal, JSON lines otherwise
 * (`log.format` forces either). libp2p's own debug logs stay on `DEBUG=libp2p:*`.
 */
export function createLogger (options: Pick<Config['log'], 'level' | 'format'>): Logger {
  const readable = options.format === 'pretty' || (options.format === 'auto' && process.stderr.isTTY)
  const destination = readable
    // required only for a terminal: daemons logging JSON never load it
    ? (require('pino-pretty') as (options: PrettyOptions) => PrettyStream)({ destination: STDERR, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ fd: STDERR, sync: true })
  return pino({ level: options.level, base: undefined, formatters: { level: label => ({ level: label }) } }, destination)
}
