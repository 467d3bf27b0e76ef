import { randomBytes, randomInt } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import {
  decodeCertificate, decodeRevocationList, decodeToken, GROUP_PATTERN, isRevoked, MembershipError, NAME_PATTERN,
  signCertificate, signRevocationList, verifyCertificate, verifyRevocationList
} from '../../protocols/membership/index.ts'
import { readKeyFile } from '../identity/key-file.ts'
import { readJsonFile, writeJsonFile } from '../state/json-file.ts'
import { UserError } from '../errors.ts'
import type { Certificate, Invite, Role, RevocationList } from '../../protocols/membership/index.ts'
import type { MemberEntry } from '../control/api.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** A refused membership command (bad input, not the admin, unknown member): a 400 with this message. */
export class MembershipCommandError extends UserError {
  override name = 'MembershipCommandError'
}

/** The admin's own certificate is valid this long: it is renewed by running `network init` nowhere, so make it outlive the network. */
const ADMIN_CERTIFICATE_SECONDS = 10 * 365 * 86_400

/** A network this node is a member of. */
export interface Network {
  name: string
  /** the network's Ed25519 public key, raw: what identifies the network */
  key: Uint8Array
  vni: number
  /** this node's own certificate in the network */
  certificate: Certificate
  /** held by the network's admin only */
  privateKey?: PrivateKey
  /** the newest revocation list known, if any */
  revocations?: RevocationList
  /** on the admin: the latest certificate issued to each peer id */
  issued: Map<string, Certificate>
  /** the inviter's addresses from the token this node joined with: dialled at every start, as `--bootstrap` ones */
  bootstrap: string[]
}

/** What a received `hello` did. */
export interface HelloOutcome {
  /** certificates of this node's networks that verified and now vouch for the peer */
  accepted: Certificate[]
  /** certificates of this node's networks that did not verify, with the reason */
  refused: Array<{ network: string, reason: string }>
  /** revocation lists newer than the ones this node had, now applied */
  newLists: RevocationList[]
}

interface NetworkRecord {
  name: string
  key: string
  vni: number
  certificate: string
  revocations: string | null
  issued: string[]
  bootstrap: string[]
}

export interface MembershipInit {
  /** `networks.json` */
  file: string
  /** the folder of the admin's network keys */
  keysDir: string
  /** this node */
  self: PeerId
  /** unix seconds; a clock the tests can move is not needed: certificates are given short TTLs instead */
  now?: () => number
}

const hex = (bytes: Uint8Array): string => uint8ArrayToString(bytes, 'base16')
const base64 = (bytes: Uint8Array): string => uint8ArrayToString(bytes, 'base64')

/**
 * The networks this node is a member of, the certificates that vouch for its peers, and
 * the admin's side (network keys, issued certificates, revocation lists). Pure state and
 * rules: the libp2p side (handshakes, gossip, the DHT) is membership-service.ts.
 */
export class Membership {
  private readonly init: MembershipInit
  private readonly byName = new Map<string, Network>()
  /** verified certificates of other peers: peer id -> network key (hex) -> certificate */
  private readonly sessions = new Map<string, Map<string, Certificate>>()
  private readonly now: () => number

  private constructor (init: MembershipInit) {
    this.init = init
    this.now = init.now ?? (() => Math.floor(Date.now() / 1000))
  }

  static async load (init: MembershipInit): Promise<Membership> {
    const membership = new Membership(init)
    for (const record of await readJsonFile<NetworkRecord[]>(init.file, [])) {
      try {
        const network: Network = {
          name: record.name,
          key: uint8ArrayFromString(record.key, 'base16'),
          vni: record.vni,
          certificate: decodeCertificate(uint8ArrayFromString(record.certificate, 'base64')),
          revocations: record.revocations == null ? undefined : decodeRevocationList(uint8ArrayFromString(record.revocations, 'base64')),
          issued: new Map(record.issued.map(text => decodeCertificate(uint8ArrayFromString(text, 'base64'))).map(cert => [cert.peerId.toString(), cert])),
          bootstrap: record.bootstrap ?? []
        }
        network.privateKey = await readNetworkKey(join(init.keysDir, `${record.name}.key`))
        membership.byName.set(network.name, network)
      } catch (err: any) {
        throw new Error(`${init.file}: network "${record.name}" cannot be read (${err.message}): restore the file from a backup, or remove the network from it`)
      }
    }
    return membership
  }

  networks (): Network[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  network (name: string): Network | undefined {
    return this.byName.get(name)
  }

  byVni (vni: number): Network | undefined {
    return this.networks().find(network => network.vni === vni)
  }

  private byKey (key: Uint8Array): Network | undefined {
    return this.networks().find(network => uint8ArrayEquals(network.key, key))
  }

  /** `network init <name>`: a new network key, a random VNI, and the admin's own certificate. */
  async create (name: string, memberName: string): Promise<Network> {
    if (!NAME_PATTERN.test(name)) throw new MembershipCommandError(`network name "${name}": expected 1-63 lowercase letters, digits or dashes`)
    if (!NAME_PATTERN.test(memberName)) throw new MembershipCommandError(`member name "${memberName}": expected 1-63 lowercase letters, digits or dashes`)
    if (this.byName.has(name)) throw new MembershipCommandError(`this node is already in a network named "${name}"`)
    const privateKey = await generateKeyPair('Ed25519')
    const vni = this.freeVni()
    const now = this.now()
    const certificate = await signCertificate({
      networkName: name, networkKey: privateKey.publicKey.raw, vni, peerId: this.init.self, name: memberName, groups: [],
      role: 'admin', notBefore: now, notAfter: now + ADMIN_CERTIFICATE_SECONDS, serial: randomSerial()
    }, privateKey)
    await mkdir(this.init.keysDir, { recursive: true, mode: 0o700 })
    await writeFile(join(this.init.keysDir, `${name}.key`), privateKeyToProtobuf(privateKey), { mode: 0o600, flag: 'wx' })
    const network: Network = { name, key: privateKey.publicKey.raw, vni, certificate, privateKey, issued: new Map([[this.init.self.toString(), certificate]]), bootstrap: [] }
    this.byName.set(name, network)
    await this.save()
    return network
  }

  /**
   * `invite` and `renew`: the admin signs a certificate for `peer`. A peer that already
   * holds one gets a new serial, and the old serial is revoked, so a group change cannot
   * be undone by presenting the old certificate.
   */
  async issue (networkName: string | undefined, who: string, options: { name?: string, groups?: string[], ttlSeconds: number, role?: Role }): Promise<{ network: Network, certificate: Certificate, revocations?: RevocationList }> {
    const network = this.administered(networkName)
    const peer = this.issuedTo(network, who)?.peerId ?? parsePeerId(who, `"${who}" is neither a member of ${network.name} nor a peer id`)
    if (peer.equals(this.init.self)) throw new MembershipCommandError('this node is the admin and holds its own certificate: invite another node')
    const previous = network.issued.get(peer.toString())
    const name = options.name ?? previous?.name
    if (name == null) throw new MembershipCommandError('a member needs a name: --name NAME')
    if (!NAME_PATTERN.test(name)) throw new MembershipCommandError(`member name "${name}": expected 1-63 lowercase letters, digits or dashes`)
    const groups = options.groups ?? previous?.groups ?? []
    const badGroup = groups.find(group => !GROUP_PATTERN.test(group))
    if (badGroup != null) throw new MembershipCommandError(`group "${badGroup}": expected lowercase letters, digits, dashes or underscores`)
    const holder = [...network.issued.values()].find(cert => cert.name === name && !cert.peerId.equals(peer) && !isRevoked(network.revocations, cert.peerId, cert.serial))
    if (holder != null) throw new MembershipCommandError(`the name "${name}" is already given to ${holder.peerId} in ${network.name}: revoke it first, or choose another name`)
    const now = this.now()
    const certificate = await signCertificate({
      networkName: network.name, networkKey: network.key, vni: network.vni, peerId: peer, name, groups: [...new Set(groups)],
      role: options.role ?? (previous?.role === 'relay' ? 'relay' : 'member'), notBefore: now, notAfter: now + options.ttlSeconds, serial: randomSerial()
    }, network.privateKey as PrivateKey)
    network.issued.set(peer.toString(), certificate)
    let revocations: RevocationList | undefined
    if (previous != null) revocations = await this.signRevocations(network, [{ peerId: peer, serial: previous.serial }])
    await this.save()
    return { network, certificate, revocations }
  }

  /** `revoke <name|peerId>`: every certificate of that peer id in the network, from now on. */
  async revoke (networkName: string | undefined, who: string): Promise<{ network: Network, peerId: PeerId, revocations: RevocationList }> {
    const network = this.administered(networkName)
    const peer = this.issuedTo(network, who)?.peerId ?? parsePeerId(who, `"${who}" is neither a member of ${network.name} nor a peer id`)
    if (peer.equals(this.init.self)) throw new MembershipCommandError('the admin cannot revoke itself')
    if (isRevoked(network.revocations, peer, 0n)) throw new MembershipCommandError(`${who} is already revoked in ${network.name}`)
    const revocations = await this.signRevocations(network, [{ peerId: peer, serial: 0n }])
    await this.save()
    return { network, peerId: peer, revocations }
  }

  /** The certificate the admin issued last to a member named `who`, or to the peer id `who`. */
  private issuedTo (network: Network, who: string): Certificate | undefined {
    return network.issued.get(who) ?? [...network.issued.values()].find(cert => cert.name === who)
  }

  private async signRevocations (network: Network, entries: Array<{ peerId: PeerId, serial: bigint }>): Promise<RevocationList> {
    const list = await signRevocationList({
      networkKey: network.key,
      version: (network.revocations?.version ?? 0n) + 1n,
      entries: [...(network.revocations?.entries ?? []), ...entries]
    }, network.privateKey as PrivateKey)
    network.revocations = list
    return list
  }

  /** `join <token>`: the certificate must be this node's, signed by the network key it carries, and valid now. */
  async join (token: string): Promise<{ network: Network, addresses: string[] }> {
    let invite: Invite
    try {
      invite = decodeToken(token)
      await verifyCertificate(invite.certificate, { now: this.now(), peer: this.init.self })
    } catch (err: any) {
      if (err instanceof MembershipError) throw new MembershipCommandError(`the token is refused: ${err.message}`)
      throw err
    }
    const certificate = invite.certificate
    const existing = this.byName.get(certificate.networkName)
    if (existing != null && !uint8ArrayEquals(existing.key, certificate.networkKey)) {
      throw new MembershipCommandError(`this node is already in another network named "${certificate.networkName}" (a different network key)`)
    }
    const clash = this.networks().find(network => network.vni === certificate.vni && network !== existing)
    if (clash != null) throw new MembershipCommandError(`network ${clash.name} already uses VNI ${certificate.vni}`)
    if (existing != null && isRevoked(existing.revocations, certificate.peerId, certificate.serial)) {
      throw new MembershipCommandError(`the token's certificate (serial ${certificate.serial}) is revoked in ${existing.name}`)
    }
    const network: Network = existing ?? { name: certificate.networkName, key: certificate.networkKey, vni: certificate.vni, certificate, issued: new Map(), bootstrap: [] }
    network.certificate = certificate
    network.bootstrap = invite.addresses
    this.byName.set(network.name, network)
    await this.save()
    return { network, addresses: invite.addresses }
  }

  /** What this node says in a `hello`: its certificate in each network and the newest lists it holds. */
  helloContent (): { certificates: Certificate[], revocations: RevocationList[] } {
    const networks = this.networks()
    return {
      certificates: networks.map(network => network.certificate),
      revocations: networks.flatMap(network => network.revocations == null ? [] : [network.revocations])
    }
  }

  /**
   * A peer's `hello`: newer revocation lists first (so they apply to the certificates
   * beside them), then each certificate of one of this node's networks. The result
   * replaces what the peer's earlier hellos established.
   */
  async acceptHello (peer: PeerId, hello: { certificates: Certificate[], revocations: RevocationList[] }): Promise<HelloOutcome> {
    const newLists = await this.acceptRevocations(hello.revocations)
    const accepted: Certificate[] = []
    const refused: HelloOutcome['refused'] = []
    const session = new Map<string, Certificate>()
    for (const certificate of hello.certificates) {
      const network = this.byKey(certificate.networkKey)
      if (network == null) continue
      try {
        await verifyCertificate(certificate, { now: this.now(), networkKey: network.key, peer, revocations: network.revocations })
        session.set(hex(network.key), certificate)
        accepted.push(certificate)
      } catch (err: any) {
        if (!(err instanceof MembershipError)) throw err
        refused.push({ network: network.name, reason: err.message })
      }
    }
    if (session.size > 0) this.sessions.set(peer.toString(), session)
    else this.sessions.delete(peer.toString())
    return { accepted, refused, newLists }
  }

  /** Lists for this node's networks that verify and are newer than the ones it holds. */
  async acceptRevocations (lists: RevocationList[]): Promise<RevocationList[]> {
    const applied: RevocationList[] = []
    for (const list of lists) {
      const network = this.byKey(list.networkKey)
      if (network == null || list.version <= (network.revocations?.version ?? 0n)) continue
      try {
        await verifyRevocationList(list, network.key)
      } catch (err: any) {
        if (err instanceof MembershipError) continue
        throw err
      }
      network.revocations = list
      applied.push(list)
    }
    if (applied.length > 0) await this.save()
    return applied
  }

  /** A reissued certificate pushed by the admin: taken when it is this node's, verifies, and is newer. */
  async acceptCertificate (certificate: Certificate): Promise<Network | undefined> {
    const network = this.byKey(certificate.networkKey)
    if (network == null || certificate.serial === network.certificate.serial || certificate.notBefore < network.certificate.notBefore) return undefined
    try {
      await verifyCertificate(certificate, { now: this.now(), networkKey: network.key, peer: this.init.self, revocations: network.revocations })
    } catch (err: any) {
      if (err instanceof MembershipError) return undefined
      throw err
    }
    network.certificate = certificate
    await this.save()
    return network
  }

  /** The peer's certificate in `network`, if it is valid right now (unexpired, unrevoked). */
  certificateOf (peer: PeerId, network: Network): Certificate | undefined {
    const certificate = this.sessions.get(peer.toString())?.get(hex(network.key))
    if (certificate == null) return undefined
    const now = this.now()
    if (now > certificate.notAfter || isRevoked(network.revocations, peer, certificate.serial)) return undefined
    return certificate
  }

  /** The networks in which `peer` holds a valid certificate, with it. */
  membershipsOf (peer: PeerId): Array<{ network: Network, certificate: Certificate }> {
    return this.networks().flatMap(network => {
      const certificate = this.certificateOf(peer, network)
      return certificate == null ? [] : [{ network, certificate }]
    })
  }

  isMember (peer: PeerId): boolean {
    return this.membershipsOf(peer).length > 0
  }

  /** Revoked (as a peer id) in one of this node's networks and a member of none. */
  isRevoked (peer: PeerId): boolean {
    return this.networks().some(network => isRevoked(network.revocations, peer, 0n)) && !this.isMember(peer)
  }

  /** Forgets the peers verified earlier that are members no more (revoked, or expired), and returns them. */
  dropInvalidSessions (): PeerId[] {
    const gone = [...this.sessions.keys()].map(text => peerIdFromString(text)).filter(peer => !this.isMember(peer))
    for (const peer of gone) this.sessions.delete(peer.toString())
    return gone
  }

  /** The peer id of a member known by that name: from certificates, never from what a peer says of itself. */
  resolveName (name: string): PeerId | undefined {
    const found = new Map<string, PeerId>()
    for (const member of this.members()) {
      if (member.name === name && !member.revoked && !member.self) found.set(member.peerId, peerIdFromString(member.peerId))
    }
    if (found.size > 1) throw new MembershipCommandError(`"${name}" names ${found.size} members in different networks: use a peer id`)
    return [...found.values()][0]
  }

  /** Every member this node knows of: itself, the peers it has verified, and on the admin every certificate it issued. */
  members (): MemberEntry[] {
    const entries = new Map<string, MemberEntry>()
    for (const network of this.networks()) {
      const certificates = [
        ...network.issued.values(),
        ...[...this.sessions.values()].flatMap(session => session.get(hex(network.key)) ?? []),
        network.certificate
      ]
      for (const certificate of certificates) {
        entries.set(`${network.name}/${certificate.peerId}`, {
          network: network.name,
          name: certificate.name,
          peerId: certificate.peerId.toString(),
          groups: certificate.groups,
          role: certificate.role,
          expires: new Date(certificate.notAfter * 1000).toISOString(),
          serial: certificate.serial.toString(),
          revoked: isRevoked(network.revocations, certificate.peerId, certificate.serial),
          self: certificate.peerId.equals(this.init.self)
        })
      }
    }
    return [...entries.values()].sort((a, b) => a.network.localeCompare(b.network) || a.name.localeCompare(b.name))
  }

  /** The network a command names, which this node must administer; with one administered network, the name may be left out. */
  private administered (name: string | undefined): Network & { privateKey: PrivateKey } {
    const administered = this.networks().filter(network => network.privateKey != null)
    const network = name == null ? (administered.length === 1 ? administered[0] : undefined) : this.byName.get(name)
    if (name == null && network == null) {
      throw new MembershipCommandError(administered.length === 0
        ? 'this node administers no network: run agentmesh network init <name> first'
        : `this node administers ${administered.map(n => n.name).join(', ')}: say which with --network`)
    }
    if (network == null) throw new MembershipCommandError(`this node is in no network named "${name}"`)
    if (network.privateKey == null) throw new MembershipCommandError(`this node does not hold the key of ${network.name}: only its admin can do that`)
    return network as Network & { privateKey: PrivateKey }
  }

  private freeVni (): number {
    for (;;) {
      const vni = randomInt(1, 0x1000000)
      if (this.byVni(vni) == null) return vni
    }
  }

  private async save (): Promise<void> {
    await writeJsonFile(this.init.file, this.networks().map((network): NetworkRecord => ({
      name: network.name,
      key: hex(network.key),
      vni: network.vni,
      certificate: base64(network.certificate.bytes),
      revocations: network.revocations == null ? null : base64(network.revocations.bytes),
      issued: [...network.issued.values()].map(cert => base64(cert.bytes)),
      bootstrap: network.bootstrap
    })))
  }
}

function parsePeerId (text: string, message = `"${text}" is not a peer id (it looks like 12D3KooW...)`): PeerId {
  try {
    return peerIdFromString(text)
  } catch {
    throw new MembershipCommandError(message)
  }
}

/** A random non-zero 64-bit serial. */
function randomSerial (): bigint {
  const serial = randomBytes(8).readBigUInt64BE()
  return serial === 0n ? 1n : serial
}

/** The admin's key of a network, or undefined on members (who never hold it); 0600 as the identity key. */
async function readNetworkKey (file: string): Promise<PrivateKey | undefined> {
  const bytes = await readKeyFile(file, 'network key')
  return bytes == null ? undefined : privateKeyFromProtobuf(bytes)
}
