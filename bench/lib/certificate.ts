import { spawnSync } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../../test/helpers/daemon.ts'
import type { Scope } from './setup.ts'

/** A throwaway self-signed certificate for 127.0.0.1 (openssl), removed with the scope. */
export async function selfSignedCertificate (scope: Scope): Promise<{ key: string, cert: string }> {
  const dir = await tempDir('agentmesh-bench-tls-')
  scope.defer(async () => rm(dir, { recursive: true, force: true }))
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8', timeout: 20_000 })
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`)
  return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') }
}
