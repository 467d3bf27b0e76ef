/**
 * The bench's TCP ends inside a network namespace, run there with `ip netns exec NS node
 * netns-tcp.ts ...` (lib/nebula.ts):
 *
 * - `echo PORT`: an echo service on every address of the namespace, until stopped;
 * - `first-byte HOST PORT COUNT`: COUNT sequential new connections to HOST:PORT, each
 *   sending 1 byte and reading it back (lib/first-byte.ts); prints their times in ms as JSON.
 */

import { createServer } from 'node:net'
import { firstByteMs } from './first-byte.ts'

const [mode, ...args] = process.argv.slice(2)
if (mode === 'echo') {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, socket => {
    socket.on('error', () => {})
    socket.pipe(socket)
  })
  server.listen(Number(args[0]), '0.0.0.0')
  process.once('SIGTERM', () => { process.exit(0) })
} else if (mode === 'first-byte') {
  const [host, port, count] = args
  process.stdout.write(`${JSON.stringify(await firstByteMs(Number(port), Number(count), host))}\n`)
} else {
  process.stderr.write('usage: netns-tcp.ts echo PORT | first-byte HOST PORT COUNT\n')
  process.exitCode = 2
}
