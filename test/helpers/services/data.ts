/**
 * Deterministic test payloads: an AES-128-CTR keystream named by a seed, so
 * both ends of a tunnel can produce (or check) the same bytes without sending
 * them out of band, and SHA-256 helpers to compare them.
 */

import { createCipheriv, createHash } from 'node:crypto'

export const KiB = 1024
export const MiB = 1024 * KiB

const ZEROS = Buffer.alloc(MiB)

/** The bytes named by `seed`, `total` of them, in chunks of at most `chunkSize`. */
export function * deterministicChunks (seed: string, total: number, chunkSize = MiB): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  for (let sent = 0; sent < total;) {
    const size = Math.min(chunkSize, total - sent, ZEROS.length)
    yield cipher.update(ZEROS.subarray(0, size))
    sent += size
  }
}

/** The same bytes as `deterministicChunks`, in one buffer. */
export function deterministicBytes (seed: string, total: number): Buffer {
  return Buffer.concat([...deterministicChunks(seed, total)])
}

/** Hex SHA-256 of the bytes `deterministicChunks(seed, total)` yields. */
export function deterministicSha256 (seed: string, total: number): string {
  const hash = createHash('sha256')
  for (const chunk of deterministicChunks(seed, total)) hash.update(chunk)
  return hash.digest('hex')
}

export function sha256 (data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A SHA-256 fed chunk by chunk, that also counts the bytes. */
export class Digest {
  bytes = 0
  private readonly hash = createHash('sha256')

  update (chunk: Uint8Array): void {
    this.bytes += chunk.length
    this.hash.update(chunk)
  }

  hex (): string {
    return this.hash.digest('hex')
  }
}
