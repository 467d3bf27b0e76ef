import { networkMembersCid, serviceProvidersCid } from '../../protocols/records/index.ts'
import { queryServices } from '../../protocols/services/index.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { describeError } from '../errors.ts'
import { dialPeer } from '../node/dial-peer.ts'
import type { PublishedService } from '../../protocols/records/index.ts'
import type { PublishedEntry } from '../control/api.ts'
import type { Logger } from '../log/logger.ts'
import type { Membership, Network } from '../membership/membership.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { Resolver } from './resolver.ts'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** How long one provider lookup, or one round of pings and queries, may take. */
const DISCOVERY_TIMEOUT_MS = 8_000
/** Providers a lookup collects at most: the nearest of them are what `*\/<service>` wants. */
const MAX_PROVIDERS = 32
/** Peers asked at once (pings, services queries). */
const CONCURRENCY = 8
/** A `*\/<service>` choice is kept this long before providers and RTTs are measured again. */
const CHOICE_TTL_MS = 30_000

export interface Provider {
  peerId: PeerId
  network: Network
  rttMs: number
}

export interface ServiceFinderComponents {
  node: MeshNode
  membership: Membership
  members: MembershipService
  resolver: Resolver
  log: Logger
}

/**
 * Service discovery with no registry: the DHT's provider records say who publishes a
 * service (or is a member at all), the membership handshake checks that each one is a
 * member, a ping measures it, and the member itself says which services this node may
 * use (`/agentmesh/services/1.0.0`) with its signed record.
 */
export class ServiceFinder {
  private readonly components: ServiceFinderComponents
  private readonly choices = new Map<string, { providers: Provider[], until: number }>()

  constructor (components: ServiceFinderComponents) {
    this.components = components
  }

  /** The members that publish `service` (in `network`, else in any network of this node), nearest first; measured again every 30 s. */
  async providers (service: string, options: { network?: string } = {}): Promise<Provider[]> {
    const key = `${options.network ?? '*'}/${service}`
    const choice = this.choices.get(key)
    if (choice != null && choice.until > Date.now()) return choice.providers
    const found: Provider[] = []
    for (const network of this.networks(options.network)) {
      const peers = await this.findProviders(serviceProvidersCid(network.key, service))
      found.push(...await this.measure(peers, network))
    }
    const providers = found.sort((a, b) => a.rttMs - b.rttMs)
    this.choices.set(key, { providers, until: Date.now() + CHOICE_TTL_MS })
    return providers
  }

  /** The peers that provide `cid` (a provider key) and are members of `network` now, with their round-trip times, nearest first. */
  async members (cid: CID, network: Network): Promise<Provider[]> {
    return (await this.measure(await this.findProviders(cid), network)).sort((a, b) => a.rttMs - b.rttMs)
  }

  /** Drops a provider that failed from the current choice, so that new connections take the next one. */
  failed (service: string, network: string | undefined, peer: PeerId): void {
    const choice = this.choices.get(`${network ?? '*'}/${service}`)
    if (choice != null) choice.providers = choice.providers.filter(provider => !provider.peerId.equals(peer))
  }

  /** `services --all`: what the members of this node's networks publish, nearest member first. */
  async published (): Promise<PublishedEntry[]> {
    const { membership } = this.components
    const entries: PublishedEntry[] = []
    for (const network of membership.networks()) {
      const known = membership.members().filter(member => member.network === network.name && !member.self && !member.revoked)
      const peers = uniquePeers([...await this.findProviders(networkMembersCid(network.key)), ...known.map(member => member.peerId)])
      const measured = await this.measure(peers, network)
      await eachLimited(measured, async provider => {
        try {
          const answer = await this.usable(provider.peerId, network)
          for (const service of answer.published) {
            entries.push({ ...service, member: answer.name, peerId: provider.peerId.toString(), network: network.name, rttMs: provider.rttMs })
          }
        } catch (err) {
          this.components.log.debug({ peer: provider.peerId.toString(), err: describeError(err) }, 'no services answer')
        }
      })
    }
    return entries.sort((a, b) => a.name.localeCompare(b.name) || a.rttMs - b.rttMs)
  }

  /**
   * Asks a member which services this node may use in `network` (published or not), and
   * takes its signed record from the answer.
   */
  async usable (peer: PeerId, network: Network, options: AbortOptions = {}): Promise<{ name: string, usable: PublishedService[], published: PublishedService[] }> {
    const signal = options.signal ?? AbortSignal.timeout(DISCOVERY_TIMEOUT_MS)
    await this.components.members.verify(peer, { signal })
    const connection = await dialPeer(this.components.node, peer, { signal })
    const answer = await queryServices(connection, { vni: network.vni })
    const record = await this.components.resolver.remember(network, answer.record)
    if (record == null || !record.certificate.peerId.equals(peer)) throw new Error(`${peer} answered without a valid member record of ${network.name}`)
    return { name: record.certificate.name, usable: answer.usable, published: record.services }
  }

  private networks (name: string | undefined): Network[] {
    const { membership } = this.components
    return name == null ? membership.networks() : [membership.network(name)].filter(network => network != null)
  }

  private async findProviders (cid: CID): Promise<PeerId[]> {
    const { node } = this.components
    const peers: PeerId[] = []
    try {
      for await (const provider of node.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) })) {
        if (!provider.id.equals(node.peerId) && !peers.some(peer => peer.equals(provider.id))) peers.push(provider.id)
        if (peers.length >= MAX_PROVIDERS) break
      }
    } catch (err) {
      this.components.log.debug({ err: describeError(err) }, 'provider lookup ended')
    }
    return peers
  }

  /** The peers that are members of `network` (after a hello), with their round-trip time; those that do not answer are left out. */
  private async measure (peers: PeerId[], network: Network): Promise<Provider[]> {
    const { node, members, membership } = this.components
    const measured: Provider[] = []
    await eachLimited(peers, async peer => {
      try {
        const signal = AbortSignal.timeout(DISCOVERY_TIMEOUT_MS)
        await members.verify(peer, { signal })
        if (membership.certificateOf(peer, network) == null) return
        measured.push({ peerId: peer, network, rttMs: await node.services.ping.ping(peer, { signal }) })
      } catch (err) {
        this.components.log.debug({ peer: peer.toString(), err: describeError(err) }, 'provider does not answer')
      }
    })
    return measured
  }
}

function uniquePeers (peers: Array<PeerId | string>): PeerId[] {
  const seen = new Map<string, PeerId>()
  for (const peer of peers) {
    const id = typeof peer === 'string' ? peerIdFromString(peer) : peer
    seen.set(id.toString(), id)
  }
  return [...seen.values()]
}

/** Runs `task` for every item, at most CONCURRENCY at once. */
export async function eachLimited<T> (items: T[], task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item)
  }))
}
