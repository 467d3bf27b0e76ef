import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'

/**
 * A member's stable virtual IPv6 address, as the PROXY protocol header names the caller
 * and the callee (SPEC.md, "Caller identity: PROXY protocol v2"). It is a unique local
 * address (RFC 4193):
 *
 * ```
 * | 8 bits | 40 bits   | 16 bits   | 64 bits                                   |
 * | 0xfd   | global id | subnet 0  | interface id                              |
 * ```
 *
 * - global id: the first 5 bytes of SHA-256("agentmesh network v1" || 0x00 || network key),
 *   so every network (VNI) gets its own /48; the allowlist (VNI 0, no network key) uses
 *   32 zero bytes as its key;
 * - interface id: the first 8 bytes of SHA-256("agentmesh member v1" || 0x00 || the peer
 *   id's multihash bytes).
 *
 * Nothing routes these addresses: they are names for peers that a service can log, match
 * in an ACL (`allow fdxx:xxxx:xxxx::/48`) or key a rate limit on.
 */

/** The domain separation label of the network part. */
export const NETWORK_LABEL = 'agentmesh network v1'

/** The domain separation label of the member part. */
export const MEMBER_LABEL = 'agentmesh member v1'

/** The network key of the allowlist (VNI 0), which has none: 32 zero bytes. */
export const ALLOWLIST_NETWORK_KEY: Uint8Array = new Uint8Array(32)

const encoder = new TextEncoder()

function labelledSha256 (label: string, data: Uint8Array): Uint8Array {
  return createHash('sha256').update(encoder.encode(label)).update(Uint8Array.of(0)).update(data).digest()
}

/** The 6 bytes of the network's /48: 0xfd, then its 40-bit global id. */
export function virtualIpv6Prefix (networkKey: Uint8Array | undefined): Uint8Array {
  const prefix = new Uint8Array(6)
  prefix[0] = 0xfd
  prefix.set(labelledSha256(NETWORK_LABEL, networkKey ?? ALLOWLIST_NETWORK_KEY).subarray(0, 5), 1)
  return prefix
}

/** The 16 bytes of `peer`'s virtual address in the network of `networkKey` (undefined: the allowlist). */
export function virtualIpv6Bytes (networkKey: Uint8Array | undefined, peer: PeerId): Uint8Array {
  const address = new Uint8Array(16)
  address.set(virtualIpv6Prefix(networkKey), 0)
  // bytes 6 and 7, the subnet id, stay 0
  address.set(labelledSha256(MEMBER_LABEL, peer.toMultihash().bytes).subarray(0, 8), 8)
  return address
}

/** `peer`'s virtual address in the network of `networkKey` (undefined: the allowlist), in RFC 5952 text. */
export function virtualIpv6 (networkKey: Uint8Array | undefined, peer: PeerId): string {
  return formatIpv6(virtualIpv6Bytes(networkKey, peer))
}

/**
 * 16 bytes as RFC 5952 text, the form `node:net` and nginx print: lower-case hex, no
 * leading zeros in a group, the longest run of two or more zero groups (the first of
 * equal runs) as `::`. (An IPv4-mapped address is printed as eight hex groups, never
 * in dotted form: virtual addresses are never IPv4-mapped.)
 */
export function formatIpv6 (bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`an IPv6 address has 16 bytes, not ${bytes.length}`)
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1])
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { bestStart = i; bestLength = j - i }
    i = j
  }
  const hex = groups.map(group => group.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}
