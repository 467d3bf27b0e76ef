/**
 * V8 flags the daemon runs with. A young generation of 1 MiB per semi-space (V8's
 * default on 64-bit is 16 MiB or more) keeps the buffers of a busy tunnel in the CPU
 * caches: each scavenge frees the 64 KiB socket reads and cipher outputs soon after use,
 * where a large young generation lets hundreds of MiB of them pile up before they are
 * collected (the measured effect is in the README's Benchmarks).
 */
export const DAEMON_V8_FLAGS = ['--max-semi-space-size=1']

/**
 * Replaces this process (same pid, same stdio) by the same command with
 * DAEMON_V8_FLAGS, which only take effect when the heap is created. Does nothing when
 * they are set already, when the user set the semi-space size themselves (in the
 * command line or NODE_OPTIONS), or where exec is not available (Windows).
 */
export function execWithDaemonFlags (): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map(flag => flag.split('=')[0])
  if (DAEMON_V8_FLAGS.some(flag => given.includes(flag.split('=')[0])) || typeof process.execve !== 'function') return
  process.execve(process.execPath, [process.execPath, ...DAEMON_V8_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env)
}
