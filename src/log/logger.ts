import { pino } from 'pino'
import pretty from 'pino-pretty'
import type { Config } from '../config/schema.ts'
import type { Logger } from 'pino'

export type { Logger }

const STDERR = 2

/**
 * The daemon's log on stderr: readable lines on a terminal, JSON lines otherwise
 * (`log.format` forces either). libp2p's own debug logs stay on `DEBUG=libp2p:*`.
 */
export function createLogger (options: Pick<Config['log'], 'level' | 'format'>): Logger {
  const readable = options.format === 'pretty' || (options.format === 'auto' && process.stderr.isTTY)
  const destination = readable
    ? pretty({ destination: STDERR, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ fd: STDERR, sync: true })
  return pino({ level: options.level, base: undefined, formatters: { level: label => ({ level: label }) } }, destination)
}
