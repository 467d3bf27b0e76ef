import { chmod, unlink } from 'node:fs/promises'
import type { Server } from 'node:net'

/**
 * Listens on the unix socket at `path`, mode 0600 from its creation on (only this user
 * can connect), replacing a socket a crashed daemon left behind; resolves with whether
 * there was one.
 */
export async function listenOnUnixSocket (server: Server, path: string): Promise<{ replacedStale: boolean }> {
  const replacedStale = await unlink(path).then(() => true, () => false)
  const umask = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } finally {
    process.umask(umask)
  }
  await chmod(path, 0o600)
  return { replacedStale }
}
