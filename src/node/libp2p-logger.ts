import { defaultLogger, enabled } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'

const debugLoggers = defaultLogger()
const nothing = (): void => {}

/**
 * libp2p's debug loggers, made only for the namespaces `DEBUG` enables (`DEBUG='libp2p:*'`
 * works as before). js-libp2p makes a logger for every layer of every stream, and the
 * default one builds two `debug` instances, each asking `isatty(2)` of the kernel, and a
 * trace logger: a tenth of a new tunnel's CPU and over 2 KiB of heap a side for as long
 * as the stream lives, to log nothing. A disabled namespace gets a silent logger instead,
 * a function that remembers its name for `newScope`.
 */
export const libp2pLogger: ComponentLogger = { forComponent }

function forComponent (name: string): Logger {
  if (enabled(name) || enabled(`${name}:error`) || enabled(`${name}:trace`)) return debugLoggers.forComponent(name)
  return Object.assign((): void => {}, {
    enabled: false,
    error: nothing,
    trace: nothing,
    newScope: (scope: string) => forComponent(`${name}:${scope}`)
  })
}
