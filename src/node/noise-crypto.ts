import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { KeyObject } from 'node:crypto'

const CHACHA20_POLY1305 = 'chacha20-poly1305'
const TAG_BYTES = 16
/** below this noise's own WebAssembly cipher is the faster one (its own threshold) */
const NODE_CIPHER_FROM_BYTES = 1200

/**
 * noise's default crypto with a faster transport cipher for bulk data. The default
 * imports the raw 32-byte key into OpenSSL on every message (a quarter of a 64 KiB
 * message's cost) and copies each ciphertext once more to append the tag. Here each
 * session key (the same Uint8Array for a whole noise session) becomes one KeyObject,
 * and the ciphertext and tag go out as a list, without the copy.
 */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < NODE_CIPHER_FROM_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = createCipheriv(CHACHA20_POLY1305, keyObject(k), nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const output = new Uint8ArrayList()
    for (const chunk of plaintext instanceof Uint8Array ? [plaintext] : plaintext) output.append(cipher.update(chunk))
    const final = cipher.final()
    if (final.byteLength > 0) output.append(final)
    output.append(cipher.getAuthTag())
    // noise's own (nested) copy of uint8arraylist: the same class to the code, not to the compiler
    return output as unknown as ReturnType<ICryptoInterface['chaCha20Poly1305Encrypt']>
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < NODE_CIPHER_FROM_BYTES) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    const decipher = createDecipheriv(CHACHA20_POLY1305, keyObject(k), nonce, { authTagLength: TAG_BYTES })
    const textBytes = ciphertext.byteLength - TAG_BYTES
    decipher.setAAD(ad, { plaintextLength: textBytes })
    decipher.setAuthTag(ciphertext.subarray(textBytes))
    const text = ciphertext instanceof Uint8Array ? [ciphertext.subarray(0, textBytes)] : ciphertext.sublist(0, textBytes)
    const output = [...text].map(chunk => decipher.update(chunk))
    output.push(decipher.final()) // throws if the tag does not match
    return output.length === 2 && output[1].byteLength === 0 ? output[0] : Buffer.concat(output)
  }
}

const keys = new WeakMap<Uint8Array, KeyObject>()

function keyObject (k: Uint8Array): KeyObject {
  let key = keys.get(k)
  if (key == null) {
    key = createSecretKey(k)
    keys.set(k, key)
  }
  return key
}
