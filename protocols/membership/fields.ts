import { peerIdFromMultihash, peerIdFromPublicKey } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { equals } from 'uint8arrays/equals'
import {
  GROUP_PATTERN, MAX_GROUPS, MAX_PEER_ID_BYTES, MAX_TIME, MAX_U64, MAX_VNI, NAME_PATTERN, NETWORK_KEY_BYTES, RESERVED_VNI,
  ROLE_CODES
} from './constants.ts'
import { MalformedFieldError, TooLargeError } from './errors.ts'
import type { PeerId } from '@libp2p/interface'
import type { Role } from './types.ts'

const SHA2_256 = 0x12
const SHA2_256_BYTES = 32
const IDENTITY = 0x00

/** The peer id's binary form (its multihash), checked to be one SPEC.md accepts. */
export function peerIdBytes (peerId: PeerId, what: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = peerId.toMultihash().bytes
  } catch {
    throw new MalformedFieldError(`the ${what} is not a peer id`)
  }
  // the same checks as on decoding, so an encoder never writes what a decoder refuses
  parsePeerId(bytes, what)
  return bytes
}

/**
 * A peer id from its multihash bytes: the identity multihash of an Ed25519 or
 * secp256k1 public key in its canonical protobuf form, or the sha2-256
 * multihash of an RSA key. Anything else, or another encoding of the same
 * key, is refused, so one peer has exactly one encoding.
 */
export function parsePeerId (bytes: Uint8Array, what: string): PeerId {
  if (bytes.length === 0 || bytes.length > MAX_PEER_ID_BYTES) {
    throw new MalformedFieldError(`the ${what} takes ${bytes.length} bytes; a peer id takes 1 to ${MAX_PEER_ID_BYTES}`)
  }
  let peerId: PeerId
  try {
    const digest = Digest.decode(bytes)
    if (digest.code === SHA2_256 && digest.size !== SHA2_256_BYTES) throw new Error('short sha2-256 digest')
    peerId = peerIdFromMultihash(digest)
    const canonical = peerId.publicKey === undefined ? Digest.create(digest.code, digest.digest).bytes : peerIdFromPublicKey(peerId.publicKey).toMultihash().bytes
    if (!equals(canonical, bytes)) throw new Error('not canonical')
  } catch {
    throw new MalformedFieldError(`the ${what} is not a valid peer id`)
  }
  if (peerId.type === 'url' || (peerId.type === 'RSA' && bytes[0] !== SHA2_256) || (peerId.type !== 'RSA' && bytes[0] !== IDENTITY)) {
    throw new MalformedFieldError(`the ${what} is not a key-based peer id`)
  }
  return peerId
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

/** Text of a name or group: ASCII by its pattern, so one byte per character. */
export function encodeText (text: string): Uint8Array {
  return encoder.encode(text)
}

export function decodeText (bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new MalformedFieldError(`the ${what} is not valid UTF-8`)
  }
}

export function checkName (name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new MalformedFieldError(`the ${what} ${JSON.stringify(name)} is not 1 to 63 lower-case letters, digits and '-', starting with a letter or digit`)
  }
  return name
}

export function checkGroups (groups: unknown): string[] {
  if (!Array.isArray(groups)) {
    throw new MalformedFieldError('the groups are not a list')
  }
  if (groups.length > MAX_GROUPS) {
    throw new TooLargeError(`the certificate has ${groups.length} groups; at most ${MAX_GROUPS} are allowed`)
  }
  const seen = new Set<string>()
  for (const group of groups) {
    if (typeof group !== 'string' || !GROUP_PATTERN.test(group)) {
      throw new MalformedFieldError(`the group ${JSON.stringify(group)} is not 1 to 63 lower-case letters, digits, '-' and '_', starting with a letter or digit`)
    }
    if (seen.has(group)) {
      throw new MalformedFieldError(`the group ${JSON.stringify(group)} appears twice`)
    }
    seen.add(group)
  }
  return groups
}

const ROLES = Object.keys(ROLE_CODES) as Role[]

export function roleCode (role: unknown): number {
  if (typeof role !== 'string' || !Object.hasOwn(ROLE_CODES, role)) {
    throw new MalformedFieldError(`the role ${JSON.stringify(role)} is not one of ${ROLES.join(', ')}`)
  }
  return ROLE_CODES[role as Role]
}

export function roleFromCode (code: number): Role {
  const role = ROLES.find((name) => ROLE_CODES[name] === code)
  if (role === undefined) {
    throw new MalformedFieldError(`the role byte ${code} is not 0 (member), 1 (relay) or 2 (admin)`)
  }
  return role
}

export function checkVni (vni: unknown): number {
  if (typeof vni !== 'number' || !Number.isInteger(vni) || vni < 0 || vni > MAX_VNI) {
    throw new MalformedFieldError(`the VNI ${String(vni)} is not an integer from 1 to ${MAX_VNI}`)
  }
  if (vni === RESERVED_VNI) {
    throw new MalformedFieldError('VNI 0 is reserved for allowlist tunnels; a network takes 1 to 16777215')
  }
  return vni
}

export function checkNetworkKey (key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== NETWORK_KEY_BYTES) {
    throw new MalformedFieldError(`the network key is not ${NETWORK_KEY_BYTES} bytes (a raw Ed25519 public key)`)
  }
  return key
}

export function checkTime (time: unknown, what: string): number {
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0 || time > MAX_TIME) {
    throw new MalformedFieldError(`${what} ${String(time)} is not a unix time in seconds from 0 to 2^53 - 1`)
  }
  return time
}

/** `value` as a u64, or a MalformedFieldError naming it. */
export function checkU64 (value: unknown, what: string, min: bigint): bigint {
  if (typeof value !== 'bigint' || value < min || value > MAX_U64) {
    throw new MalformedFieldError(`the ${what} ${String(value)} is not an integer from ${min} to 2^64 - 1`)
  }
  return value
}

/** Byte-wise order, shorter first on a common prefix: the order of revocation entries. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return a.length - b.length
}
