import { open, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { UserError } from '../errors.ts'
import type { PrivateKey } from '@libp2p/interface'

export class IdentityKeyError extends UserError {
  override name = 'IdentityKeyError'
}

/**
 * Loads the node's Ed25519 key, creating it with mode 0600 on first start. Like OpenSSH
 * with private keys, a key that others can read, or that cannot be read or parsed,
 * stops the start: a silently replaced key would change the peer id.
 */
export async function loadOrCreateIdentity (file: string): Promise<PrivateKey> {
  const bytes = await readKeyFile(file, 'identity key')
  if (bytes == null) {
    const key = await generateKeyPair('Ed25519')
    await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
    return key
  }
  try {
    const key = privateKeyFromProtobuf(bytes)
    if (key.type !== 'Ed25519') throw new Error(`it holds a ${key.type} key`)
    return key
  } catch (err: any) {
    throw new IdentityKeyError(`identity key ${file} is corrupt (${err.message}): restore it from a backup, or move it away to start with a new peer id`)
  }
}

/**
 * A key file's bytes, or undefined when there is none. Like OpenSSH with private keys, a
 * file that others can read is refused. `label` names the key in the errors.
 */
export async function readKeyFile (file: string, label: string): Promise<Uint8Array | undefined> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (err: any) {
    if (err.code === 'ENOENT') return undefined
    throw new IdentityKeyError(`cannot read ${label} ${file} (${err.code}): check that it belongs to this user and has mode 0600`)
  }
  try {
    const { mode } = await handle.stat()
    if ((mode & 0o077) !== 0) {
      throw new IdentityKeyError(`permissions ${(mode & 0o777).toString(8).padStart(4, '0')} for ${label} ${file} are too open: run chmod 600 ${file}`)
    }
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

