/**
 * The PROXY protocol v2 header (HAProxy's "The PROXY protocol", section 2.2, binary
 * version 2) that the exposing node writes to a service exposed with `--proxy-protocol`
 * before any tunnelled byte, so the service learns who the caller is. SPEC.md, section
 * "Caller identity: PROXY protocol v2", is the normative text; this file is its codec:
 * `encodeProxyHeader` (what the node sends) and `decodeProxyHeader` (the reference
 * parser, for tests and for services written against agentmesh).
 *
 * ```
 * 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A   signature "\r\n\r\n\0\r\nQUIT\n"
 * 21                                    version 2, command PROXY
 * 21                                    family AF_INET6, transport STREAM
 * LL LL                                 length of what follows (big-endian)
 * 16 bytes source address | 16 bytes destination address
 * 2 bytes source port     | 2 bytes destination port
 * TLVs: type (1 byte), length (2 bytes, big-endian), value
 *   0xE0 peer id, 0xE1 member name, 0xE2 groups, 0xE3 VNI
 * ```
 */

/** The 12 bytes every v2 header starts with. */
export const PROXY_V2_SIGNATURE: Uint8Array = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a)

/** Version 2 (high nibble), command PROXY (low nibble 1): the connection is relayed for someone. */
export const VERSION_COMMAND_PROXY = 0x21

/** Address family AF_INET6 (high nibble 2), transport STREAM (low nibble 1). */
export const FAMILY_INET6_STREAM = 0x21

/** signature, version/command, family, length */
export const PROXY_FIXED_BYTES = 16

/** two IPv6 addresses and two ports */
export const PROXY_INET6_ADDRESS_BYTES = 36

/** type and 16-bit length in front of each TLV value */
export const PROXY_TLV_HEAD_BYTES = 3

/**
 * The whole header, TLVs included, is at most 1024 bytes. nginx (1.22, `listen ...
 * proxy_protocol`) parses the header out of its first read into the connection's header
 * buffer, `client_header_buffer_size`, 1k by default: a 1025-byte header is refused
 * ("header is too large"), and so is a header split over two reads, whatever the PROXY
 * spec's 16-bit length allows. 1024 bytes also fit in one TCP segment on any IPv6 path
 * (minimum MTU 1280, MSS 1220), and still leave more than 900 bytes for the member name
 * and the groups after the addresses and a 52-character peer id.
 */
export const MAX_PROXY_HEADER_BYTES = 1024

/** The TLV types agentmesh sends, in the range the PROXY spec leaves to applications (PP2_TYPE_MIN_CUSTOM 0xE0 to PP2_TYPE_MAX_CUSTOM 0xEF). */
export const ProxyTlv = {
  /** the caller's peer id, its base58btc/CID text as `agentmesh id` prints it, UTF-8 */
  PEER_ID: 0xe0,
  /** the caller's member name, UTF-8; omitted when it has none */
  NAME: 0xe1,
  /** the caller's groups, comma-joined, UTF-8; omitted when it has none */
  GROUPS: 0xe2,
  /** the VNI of the tunnel, 3 bytes big-endian (0: the allowlist) */
  VNI: 0xe3
} as const

/** Source ports are taken from the dynamic range (RFC 6335), 49152 to 65535. */
export const PROXY_SOURCE_PORT_FIRST = 49152
export const PROXY_SOURCE_PORT_COUNT = 16384

/**
 * The source port of the `tunnel`-th header a node sends since it started (counting from
 * 0, over all its services): 49152 + tunnel mod 16384. A node has at most
 * `tunnels.maxTotal` (4096 by default) tunnels open, so the open tunnels of one caller
 * differ in source port unless 16384 others were opened during one of them; a service
 * can tell them apart in its logs as it would two connections of one client.
 */
export function proxySourcePort (tunnel: number): number {
  if (!Number.isSafeInteger(tunnel) || tunnel < 0) throw new RangeError(`a tunnel number is a non-negative integer, not ${tunnel}`)
  return PROXY_SOURCE_PORT_FIRST + (tunnel % PROXY_SOURCE_PORT_COUNT)
}

export interface ProxyHeaderInit {
  /** the caller's virtual address, 16 bytes (`virtualIpv6Bytes(networkKey, caller)`) */
  source: Uint8Array
  /** this node's own virtual address, 16 bytes (`virtualIpv6Bytes(networkKey, self)`) */
  destination: Uint8Array
  /** `proxySourcePort(n)` for the n-th header this node sends */
  sourcePort: number
  /** the service's port */
  destinationPort: number
  /** the caller's peer id as text */
  peerId: string
  /** the caller's member name, if it has one (an empty name is sent as none) */
  name?: string
  /** the caller's groups: none empty, none with a comma */
  groups: string[]
  /** the tunnel's VNI, 0 to 2^24 - 1 */
  vni: number
}

export interface ProxyTlvEntry {
  type: number
  value: Uint8Array
}

export interface ProxyHeader {
  source: Uint8Array
  destination: Uint8Array
  sourcePort: number
  destinationPort: number
  peerId: string
  name?: string
  groups: string[]
  vni: number
  /** TLVs of other types, in order (e.g. a CRC32C or NOOP that another proxy added): not interpreted */
  otherTlvs: ProxyTlvEntry[]
}

export interface DecodedProxyHeader {
  header: ProxyHeader
  /** the header's length in bytes: what follows it is the connection's first data */
  length: number
}

/** The base of the PROXY header errors; only its subclasses are thrown, tell them apart by `name`. */
export class ProxyHeaderError extends Error {
  override name = 'ProxyHeaderError'
}

/** The 12 bytes do not match the v2 signature (a v1 text header, or no header at all). */
export class BadProxySignatureError extends ProxyHeaderError {
  override name = 'BadProxySignatureError'
}

/** The version nibble is not 2. */
export class UnsupportedProxyVersionError extends ProxyHeaderError {
  override name = 'UnsupportedProxyVersionError'
}

/** The command is not PROXY (agentmesh never sends LOCAL). */
export class UnsupportedProxyCommandError extends ProxyHeaderError {
  override name = 'UnsupportedProxyCommandError'
}

/** The family and transport are not AF_INET6 over STREAM, the only ones agentmesh sends. */
export class UnsupportedProxyFamilyError extends ProxyHeaderError {
  override name = 'UnsupportedProxyFamilyError'
}

/** The bytes end before the header does. */
export class TruncatedProxyHeaderError extends ProxyHeaderError {
  override name = 'TruncatedProxyHeaderError'
}

/** The header would be, or says it is, longer than MAX_PROXY_HEADER_BYTES. */
export class ProxyHeaderTooLargeError extends ProxyHeaderError {
  override name = 'ProxyHeaderTooLargeError'
}

/** A TLV runs past the header, an agentmesh TLV is repeated, missing, of the wrong size or not UTF-8. */
export class MalformedProxyTlvError extends ProxyHeaderError {
  override name = 'MalformedProxyTlvError'
}

/** `encodeProxyHeader` was given a value it cannot send (wrong address size, port or VNI out of range, bad group). */
export class InvalidProxyHeaderInitError extends ProxyHeaderError {
  override name = 'InvalidProxyHeaderInitError'
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

function checkInit (init: ProxyHeaderInit): void {
  const fail = (message: string): never => { throw new InvalidProxyHeaderInitError(message) }
  if (!(init.source instanceof Uint8Array) || init.source.length !== 16) fail('the source address must be 16 bytes')
  if (!(init.destination instanceof Uint8Array) || init.destination.length !== 16) fail('the destination address must be 16 bytes')
  for (const [what, port] of [['source port', init.sourcePort], ['destination port', init.destinationPort]] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) fail(`the ${what} must be an integer from 0 to 65535, not ${port}`)
  }
  if (!Number.isInteger(init.vni) || init.vni < 0 || init.vni > 0xffffff) fail(`the VNI must be an integer from 0 to 16777215, not ${init.vni}`)
  if (typeof init.peerId !== 'string' || init.peerId === '') fail('the peer id must not be empty')
  if (init.name != null && typeof init.name !== 'string') fail('the name must be a string')
  if (!Array.isArray(init.groups)) fail('groups must be an array')
  for (const group of init.groups) {
    if (typeof group !== 'string' || group === '' || group.includes(',')) fail(`a group must be a non-empty string without a comma, not ${JSON.stringify(group)}`)
  }
}

/**
 * The header for one tunnelled connection, to be written to the service's socket in one
 * write before any tunnelled byte. Throws `InvalidProxyHeaderInitError` for values it
 * cannot send and `ProxyHeaderTooLargeError` past MAX_PROXY_HEADER_BYTES.
 */
export function encodeProxyHeader (init: ProxyHeaderInit): Uint8Array {
  checkInit(init)
  const vni = Uint8Array.of((init.vni >> 16) & 0xff, (init.vni >> 8) & 0xff, init.vni & 0xff)
  const tlvs: ProxyTlvEntry[] = [{ type: ProxyTlv.PEER_ID, value: textEncoder.encode(init.peerId) }]
  if (init.name != null && init.name !== '') tlvs.push({ type: ProxyTlv.NAME, value: textEncoder.encode(init.name) })
  if (init.groups.length > 0) tlvs.push({ type: ProxyTlv.GROUPS, value: textEncoder.encode(init.groups.join(',')) })
  tlvs.push({ type: ProxyTlv.VNI, value: vni })
  let total = PROXY_FIXED_BYTES + PROXY_INET6_ADDRESS_BYTES
  for (const tlv of tlvs) total += PROXY_TLV_HEAD_BYTES + tlv.value.length
  if (total > MAX_PROXY_HEADER_BYTES) {
    throw new ProxyHeaderTooLargeError(`the PROXY header would take ${total} bytes, more than ${MAX_PROXY_HEADER_BYTES}: name and groups are too long`)
  }
  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  bytes.set(PROXY_V2_SIGNATURE, 0)
  bytes[12] = VERSION_COMMAND_PROXY
  bytes[13] = FAMILY_INET6_STREAM
  view.setUint16(14, total - PROXY_FIXED_BYTES)
  bytes.set(init.source, 16)
  bytes.set(init.destination, 32)
  view.setUint16(48, init.sourcePort)
  view.setUint16(50, init.destinationPort)
  let offset = PROXY_FIXED_BYTES + PROXY_INET6_ADDRESS_BYTES
  for (const { type, value } of tlvs) {
    bytes[offset] = type
    view.setUint16(offset + 1, value.length)
    bytes.set(value, offset + PROXY_TLV_HEAD_BYTES)
    offset += PROXY_TLV_HEAD_BYTES + value.length
  }
  return bytes
}

/**
 * The reference parser: reads one agentmesh PROXY v2 header from the start of `bytes`
 * (which may hold the connection's first data behind it) and says how long it was.
 * Checks in wire order: the signature (as far as `bytes` go, so a v1 header or plain
 * data fails at once), version, command, family, length against the cap and against
 * `bytes`, then each TLV. Throws only ProxyHeaderError subclasses.
 */
export function decodeProxyHeader (bytes: Uint8Array): DecodedProxyHeader {
  const signatureBytes = Math.min(bytes.length, PROXY_V2_SIGNATURE.length)
  for (let i = 0; i < signatureBytes; i++) {
    if (bytes[i] !== PROXY_V2_SIGNATURE[i]) throw new BadProxySignatureError(`byte ${i} is 0x${hex(bytes[i])}, not 0x${hex(PROXY_V2_SIGNATURE[i])} of the PROXY v2 signature`)
  }
  if (bytes.length < PROXY_FIXED_BYTES) throw new TruncatedProxyHeaderError(`${bytes.length} bytes: a PROXY v2 header has at least ${PROXY_FIXED_BYTES}`)
  const version = bytes[12] >> 4
  if (version !== 2) throw new UnsupportedProxyVersionError(`PROXY protocol version ${version}, not 2`)
  const command = bytes[12] & 0x0f
  if (command !== 1) throw new UnsupportedProxyCommandError(`PROXY command ${command}, not 1 (PROXY)`)
  if (bytes[13] !== FAMILY_INET6_STREAM) throw new UnsupportedProxyFamilyError(`family/transport 0x${hex(bytes[13])}, not 0x21 (AF_INET6 over STREAM)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = PROXY_FIXED_BYTES + view.getUint16(14)
  if (length > MAX_PROXY_HEADER_BYTES) throw new ProxyHeaderTooLargeError(`the header says ${length} bytes, more than ${MAX_PROXY_HEADER_BYTES}`)
  if (length < PROXY_FIXED_BYTES + PROXY_INET6_ADDRESS_BYTES) throw new TruncatedProxyHeaderError(`the header says ${length} bytes: too short for two IPv6 addresses and ports`)
  if (bytes.length < length) throw new TruncatedProxyHeaderError(`${bytes.length} bytes of a ${length}-byte header`)
  const known = new Map<number, Uint8Array>()
  const otherTlvs: ProxyTlvEntry[] = []
  let offset = PROXY_FIXED_BYTES + PROXY_INET6_ADDRESS_BYTES
  while (offset < length) {
    if (length - offset < PROXY_TLV_HEAD_BYTES) throw new MalformedProxyTlvError(`${length - offset} bytes left at offset ${offset}: too few for a TLV`)
    const type = bytes[offset]
    const end = offset + PROXY_TLV_HEAD_BYTES + view.getUint16(offset + 1)
    if (end > length) throw new MalformedProxyTlvError(`TLV 0x${hex(type)} at offset ${offset} runs ${end - length} bytes past the header`)
    const value = bytes.slice(offset + PROXY_TLV_HEAD_BYTES, end)
    if (isAgentmeshTlv(type)) {
      if (known.has(type)) throw new MalformedProxyTlvError(`TLV 0x${hex(type)} appears twice`)
      known.set(type, value)
    } else {
      otherTlvs.push({ type, value })
    }
    offset = end
  }
  const text = (type: number): string | undefined => {
    const value = known.get(type)
    if (value == null) return undefined
    try {
      return textDecoder.decode(value)
    } catch {
      throw new MalformedProxyTlvError(`TLV 0x${hex(type)} is not UTF-8`)
    }
  }
  const peerId = text(ProxyTlv.PEER_ID)
  if (peerId == null || peerId === '') throw new MalformedProxyTlvError('no peer id TLV (0xE0)')
  const vni = known.get(ProxyTlv.VNI)
  if (vni == null) throw new MalformedProxyTlvError('no VNI TLV (0xE3)')
  if (vni.length !== 3) throw new MalformedProxyTlvError(`the VNI TLV has ${vni.length} bytes, not 3`)
  const name = text(ProxyTlv.NAME)
  const groups = text(ProxyTlv.GROUPS)
  const header: ProxyHeader = {
    source: bytes.slice(16, 32),
    destination: bytes.slice(32, 48),
    sourcePort: view.getUint16(48),
    destinationPort: view.getUint16(50),
    peerId,
    groups: groups == null || groups === '' ? [] : groups.split(','),
    vni: (vni[0] << 16) | (vni[1] << 8) | vni[2],
    otherTlvs
  }
  if (name != null && name !== '') header.name = name
  return { header, length }
}

function isAgentmeshTlv (type: number): boolean {
  return type === ProxyTlv.PEER_ID || type === ProxyTlv.NAME || type === ProxyTlv.GROUPS || type === ProxyTlv.VNI
}

function hex (byte: number): string {
  return byte.toString(16).padStart(2, '0')
}
