import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { equals } from 'uint8arrays/equals'
import { SIGNATURE_BYTES } from './constants.ts'
import { shortKey, WrongNetworkError } from './errors.ts'
import { Writer } from './bytes.ts'
import type { PrivateKey } from '@libp2p/interface'

/** The bytes a signature covers: the ASCII domain string, one 0x00 byte, then the signed bytes. */
export function signedData (domain: string, body: Uint8Array): Uint8Array {
  return new Writer().bytes(new TextEncoder().encode(domain)).u8(0).bytes(body).finish()
}

/** Signs `body` with the network key, which must be the Ed25519 key whose raw public key is `networkKey`. */
export async function signBody (domain: string, body: Uint8Array, networkKey: Uint8Array, privateKey: PrivateKey): Promise<Uint8Array> {
  if (privateKey.type !== 'Ed25519' || !equals(privateKey.publicKey.raw, networkKey)) {
    throw new WrongNetworkError(`the signing key is not the network key ${shortKey(networkKey)}`)
  }
  const signature = await privateKey.sign(signedData(domain, body))
  // a copy: node's crypto answers with a Buffer
  return Uint8Array.from(signature.subarray(0, SIGNATURE_BYTES))
}

/** Whether `signature` is the network key's Ed25519 signature of `body`; a key that is no Ed25519 point never verifies. */
export async function verifyBody (domain: string, body: Uint8Array, signature: Uint8Array, networkKey: Uint8Array): Promise<boolean> {
  try {
    const key = publicKeyFromRaw(networkKey)
    return key.type === 'Ed25519' && await key.verify(signedData(domain, body), signature)
  } catch {
    return false
  }
}
