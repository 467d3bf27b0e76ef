import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../src/node/noise-crypto.ts'

const bytes = (data: Uint8Array | { subarray: () => Uint8Array }): Buffer => Buffer.from(data.subarray())

describe('noiseCrypto: the cached-key transport cipher', () => {
  const k = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = randomBytes(32)

  for (const size of [0, 1199, 1200, 65_519]) {
    it(`${size} bytes: the same ciphertext as noise's default crypto, and each opens the other's`, () => {
      const plaintext = randomBytes(size)
      const ours = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
      const theirs = bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
      assert.deepEqual(ours, theirs)
      assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k)), plaintext)
      assert.deepEqual(bytes(defaultCrypto.chaCha20Poly1305Decrypt(Buffer.from(ours), nonce, ad, k)), plaintext)
    })
  }

  it('takes the plaintext and the ciphertext as lists of chunks', () => {
    const plaintext = randomBytes(5000)
    const list = new Uint8ArrayList(plaintext.subarray(0, 1), plaintext.subarray(1, 3000), plaintext.subarray(3000))
    const sealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(list as any, nonce, ad, k))
    assert.deepEqual(sealed, bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)))
    const chunks = new Uint8ArrayList(sealed.subarray(0, 7), sealed.subarray(7))
    assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Decrypt(chunks as any, nonce, ad, k)), plaintext)
  })

  it('rejects a ciphertext whose tag, body or associated data was altered', () => {
    const sealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(randomBytes(4096), nonce, ad, k))
    for (const index of [0, 2000, sealed.byteLength - 1]) {
      const altered = Buffer.from(sealed)
      altered[index] ^= 1
      assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(altered, nonce, ad, k))
    }
    assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, randomBytes(32), k))
  })

  it('keys each session by its own key: two keys never share a cipher', () => {
    const plaintext = randomBytes(2048)
    const other = randomBytes(32)
    const a = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
    const b = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, other))
    assert.notDeepEqual(a, b)
    assert.deepEqual(b, bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, other)))
  })
})
