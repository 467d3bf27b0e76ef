import { createHash } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeMemberRecord, memberRecordKey, MembershipError, verifyMemberRecord } from '../../protocols/records/index.ts'
import { isRevoked } from '../../protocols/membership/index.ts'
import { LogOnce } from '../log/log-once.ts'
import { UserError, describeError } from '../errors.ts'
import type { MemberRecord } from '../../protocols/records/index.ts'
import type { Logger } from '../log/logger.ts'
import type { ResolvedMember } from '../control/api.ts'
import type { Membership, Network } from '../membership/membership.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { AbortOptions } from '@libp2p/interface'

/** One DHT lookup may take this long. */
const LOOKUP_TIMEOUT_MS = 10_000
/**
 * A record is answered from the cache until it expires, but for a minute at most: a
 * member's record lives an hour, and the services it publishes may change meanwhile.
 */
const CACHE_MAX_AGE_MS = 60_000
/**
 * Once a valid record has come back, the lookup listens this much longer for a newer
 * one (a name that moved, a refresh not everywhere yet) and then stops: kad-dht would
 * otherwise walk every path to its end, seconds on a busy mesh, for copies of the same
 * record.
 */
const NEWER_RECORD_GRACE_MS = 250

export class ResolveError extends UserError {
  override name = 'ResolveError'
}

export interface ResolverComponents {
  node: MeshNode
  membership: Membership
  log: Logger
}

/**
 * `resolve <name>`: a member's signed record (protocols/records/SPEC.md), from this node's
 * cache while it is valid (a minute at most), else from the DHT. A reader takes the record with the highest
 * sequence among those that pass every check (the network is its own, the certificate
 * verifies and is not revoked, the record's signature, its expiry, its name), so a name
 * whose certificate moved to a new peer id is followed once the new record is valid.
 * Records that fail are ignored, each logged once.
 */
export class Resolver {
  private readonly components: ResolverComponents
  private readonly cache = new Map<string, { record: MemberRecord, until: number }>()
  private readonly logged: LogOnce

  constructor (components: ResolverComponents) {
    this.components = components
    this.logged = new LogOnce(components.log)
  }

  /** In the network named, else in each of this node's networks in turn. */
  async resolve (name: string, options: AbortOptions & { network?: string } = {}): Promise<ResolvedMember> {
    const { membership } = this.components
    const networks = options.network == null ? membership.networks() : [membership.network(options.network)].filter(n => n != null)
    if (networks.length === 0) throw new ResolveError(options.network == null ? 'this node is in no network: names are those of members' : `this node is in no network named "${options.network}"`)
    for (const network of networks) {
      const cached = this.cached(network, name)
      if (cached != null) return this.view(network, cached, 'cache')
    }
    for (const network of networks) {
      const found = await this.lookup(network, name, options)
      if (found != null) return this.view(network, found, 'dht')
    }
    throw new ResolveError(`no member named "${name}" in ${networks.map(network => network.name).join(', ')}: no valid record in the DHT (is it running, and has it joined?)`)
  }

  /** The peer id of a member by name from the cache or the DHT, or undefined. */
  async peerOf (name: string, options: AbortOptions & { network?: string } = {}): Promise<string | undefined> {
    try {
      return (await this.resolve(name, options)).peerId
    } catch (err) {
      if (err instanceof ResolveError) return undefined
      throw err
    }
  }

  /** A record this node got some other way (a member's answer over the mesh), kept like one from the DHT once it verifies. */
  async remember (network: Network, bytes: Uint8Array): Promise<MemberRecord | undefined> {
    return this.accept(network, bytes, undefined)
  }

  private cached (network: Network, name: string): MemberRecord | undefined {
    const entry = this.cache.get(cacheKey(network, name))
    if (entry == null) return undefined
    const { record } = entry
    const now = Math.floor(Date.now() / 1000)
    const { certificate } = record
    if (entry.until <= Date.now() || record.expiresAt <= now || certificate.notAfter <= now || isRevoked(network.revocations, certificate.peerId, certificate.serial)) {
      this.cache.delete(cacheKey(network, name))
      return undefined
    }
    return record
  }

  private async lookup (network: Network, name: string, options: AbortOptions): Promise<MemberRecord | undefined> {
    const { node, log } = this.components
    let best: MemberRecord | undefined
    const enough = new AbortController()
    let grace: NodeJS.Timeout | undefined
    const signal = AbortSignal.any([enough.signal, options.signal ?? AbortSignal.timeout(LOOKUP_TIMEOUT_MS)])
    try {
      for await (const event of node.services.dht.get(memberRecordKey(network.key, name), { signal })) {
        if (event.name !== 'VALUE') continue
        const record = await this.accept(network, event.value, name)
        if (record != null && (best == null || record.sequence > best.sequence)) best = record
        if (best != null) grace ??= setTimeout(() => { enough.abort() }, NEWER_RECORD_GRACE_MS)
      }
    } catch (err) {
      // a lookup that found nothing ends with an error from kad-dht, and one cut short with an abort: only the records count
      if (!enough.signal.aborted) log.debug({ name, network: network.name, err: describeError(err) }, 'DHT lookup ended')
    } finally {
      clearTimeout(grace)
    }
    return best
  }

  /** Verifies a record as a reader must; a valid one is cached, and its addresses go to the peer store. */
  private async accept (network: Network, bytes: Uint8Array, name: string | undefined): Promise<MemberRecord | undefined> {
    let record: MemberRecord
    try {
      record = decodeMemberRecord(bytes)
      await verifyMemberRecord(record, { now: Math.floor(Date.now() / 1000), networkKey: network.key, revocations: network.revocations, ...(name != null && { name }) })
    } catch (err) {
      if (!(err instanceof MembershipError)) throw err
      this.logged.warn(`${createHash('sha256').update(bytes).digest('hex')} ${err.name}`, { network: network.name, name, error: err.name }, `member record ignored: ${err.message}`)
      return undefined
    }
    const key = cacheKey(network, record.certificate.name)
    const previous = this.cache.get(key)
    if (previous == null || record.sequence >= previous.record.sequence) this.cache.set(key, { record, until: Date.now() + CACHE_MAX_AGE_MS })
    await this.components.node.peerStore.merge(record.certificate.peerId, { multiaddrs: record.addresses.map(address => multiaddr(address)) }).catch(() => {})
    return record
  }

  private view (network: Network, record: MemberRecord, source: ResolvedMember['source']): ResolvedMember {
    const { certificate } = record
    return {
      name: certificate.name,
      network: network.name,
      peerId: certificate.peerId.toString(),
      groups: certificate.groups,
      role: certificate.role,
      addresses: record.addresses,
      services: record.services,
      expires: new Date(record.expiresAt * 1000).toISOString(),
      source
    }
  }
}

function cacheKey (network: Network, name: string): string {
  return `${network.name}/${name}`
}
