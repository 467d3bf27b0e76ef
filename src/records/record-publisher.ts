import {
  capabilityProvidersCid, capabilityRecordKey, capabilityTerms, checkAgents, memberRecordKey, MembershipError, networkMembersCid,
  RECORD_REFRESH_SECONDS, RECORD_TTL_SECONDS, serviceProvidersCid, signCapabilityRecord, signMemberRecord
} from '../../protocols/records/index.ts'
import { AgentError } from '../agents/agent-errors.ts'
import { describeError } from '../errors.ts'
import type { AgentService, CapabilityRecord, PublishedService, MemberRecord } from '../../protocols/records/index.ts'
import type { AgentInfo } from '../agents/agent-info.ts'
import type { ServiceRegistry } from '../expose/service-registry.ts'
import type { Logger } from '../log/logger.ts'
import type { Membership, Network } from '../membership/membership.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { PrivateKey } from '@libp2p/interface'

/** A change (a service published, an address learnt) is published this long after it, so that a burst of changes makes one record. */
const CHANGE_DEBOUNCE_MS = 1_000
/** One DHT put or provide may take this long: the DHT walks to the closest peers. */
const PUBLISH_TIMEOUT_MS = 20_000

export interface RecordPublisherComponents {
  node: MeshNode
  privateKey: PrivateKey
  membership: Membership
  services: ServiceRegistry
  log: Logger
}

/**
 * Keeps this node's member record in the DHT for each of its networks (protocols/records/SPEC.md):
 * its certificate, the services it exposes with `--publish` in that network and its
 * addresses, signed with its peer key, put under the key of the network and its name,
 * refreshed every RECORD_REFRESH_SECONDS and soon after any change; and provides the
 * network's members key and each published service's key, so that members can be
 * enumerated and `*\/<service>` finds its providers. Its A2A agents and MCP servers
 * (`expose --a2a`, `--mcp`) go in a capability record of their own (SPEC.md section 12),
 * with a provider key per skill id, tag and tool name, so that `find` finds them.
 */
export class RecordPublisher {
  private readonly components: RecordPublisherComponents
  private readonly latest = new Map<string, MemberRecord>()
  /** what was last published in each network, so that a change is logged once */
  private readonly announced = new Map<string, string>()
  /** the networks whose capability record last published lists agents: when the last goes, an empty record replaces it */
  private readonly withAgents = new Set<string>()
  private readonly announcedAgents = new Map<string, string>()
  private timer?: NodeJS.Timeout
  private soon?: NodeJS.Timeout
  private readonly controller = new AbortController()

  constructor (components: RecordPublisherComponents) {
    this.components = components
  }

  start (): void {
    this.timer = setInterval(() => { void this.publish() }, RECORD_REFRESH_SECONDS * 1000)
    // new addresses (a reservation on a relay, a public address confirmed) go in the record
    this.components.node.addEventListener('self:peer:update', this.publishSoon)
    this.publishSoon()
  }

  stop (): void {
    this.components.node.removeEventListener('self:peer:update', this.publishSoon)
    clearInterval(this.timer)
    clearTimeout(this.soon)
    this.controller.abort()
  }

  /** After a change: one publication for a burst of them. */
  readonly publishSoon = (): void => {
    clearTimeout(this.soon)
    this.soon = setTimeout(() => { void this.publish() }, CHANGE_DEBOUNCE_MS)
  }

  /** This node's newest record in `network`, signed now if it has none yet (members ask for it over the mesh). */
  async recordOf (network: Network): Promise<MemberRecord> {
    return this.latest.get(network.name) ?? this.sign(network)
  }

  /** The services this node publishes in `network`. */
  published (network: Network): PublishedService[] {
    return this.components.services.exposed()
      .filter(service => service.publish && (service.networks.length === 0 || service.networks.includes(network.name)))
      .map(({ name, proto, port }) => ({ name, proto, port }))
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  /** The agent services this node publishes in `network`. */
  agents (network: Network): AgentService[] {
    return this.components.services.exposed()
      .filter(service => service.agent != null && (service.networks.length === 0 || service.networks.includes(network.name)))
      .map(service => ({ service: service.name, ...service.agent as AgentInfo }))
  }

  /**
   * Whether `agent`, exposed as `service` in `networks` (empty: all), fits the capability
   * records this node would then publish (field rules, counts, size); AgentError in one
   * line when it does not, before anything is stored.
   */
  async checkAgent (service: string, agent: AgentInfo, networks: string[]): Promise<void> {
    const { membership, privateKey } = this.components
    const candidate = { service, ...agent }
    try {
      checkAgents([candidate])
      for (const network of membership.networks().filter(network => networks.length === 0 || networks.includes(network.name))) {
        const agents = [...this.agents(network).filter(other => other.service !== service), candidate]
        await signCapabilityRecord({ certificate: network.certificate, sequence: 0n, expiresAt: 0, agents }, privateKey)
      }
    } catch (err: any) {
      if (err instanceof MembershipError) throw new AgentError(`${service} cannot be published: ${err.message}`)
      throw err
    }
  }

  private async signCapabilities (network: Network, agents: AgentService[]): Promise<CapabilityRecord> {
    return signCapabilityRecord({
      certificate: network.certificate,
      sequence: BigInt(Date.now()),
      expiresAt: Math.floor(Date.now() / 1000) + RECORD_TTL_SECONDS,
      agents
    }, this.components.privateKey)
  }

  private async sign (network: Network): Promise<MemberRecord> {
    const { node, privateKey } = this.components
    const record = await signMemberRecord({
      certificate: network.certificate,
      sequence: BigInt(Date.now()),
      expiresAt: Math.floor(Date.now() / 1000) + RECORD_TTL_SECONDS,
      services: this.published(network),
      addresses: [...new Set(node.getMultiaddrs().map(address => address.toString()))].slice(0, 8)
    }, privateKey)
    this.latest.set(network.name, record)
    return record
  }

  /** Signs and stores each network's record, and provides its keys; a failure is logged and retried at the next refresh. */
  async publish (): Promise<void> {
    const { node, membership, log } = this.components
    for (const network of membership.networks()) {
      if (this.controller.signal.aborted) return
      const options = { signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(PUBLISH_TIMEOUT_MS)]) }
      try {
        const record = await this.sign(network)
        for await (const _event of node.services.dht.put(memberRecordKey(network.key, network.certificate.name), record.bytes, options)) {}
        await node.contentRouting.provide(networkMembersCid(network.key), options)
        for (const service of record.services) await node.contentRouting.provide(serviceProvidersCid(network.key, service.name), options)
        const services = record.services.map(service => service.name)
        if (this.announced.get(network.name) !== services.join(',')) {
          this.announced.set(network.name, services.join(','))
          log.info({ network: network.name, services }, 'member record published')
        }
      } catch (err) {
        if (!this.controller.signal.aborted) log.debug({ network: network.name, err: describeError(err) }, 'cannot publish the member record yet (retrying at the next refresh)')
      }
      await this.publishCapabilities(network, options)
    }
  }

  /** The capability record of `network` and a provider key per term, when this node has agents there (or just had). */
  private async publishCapabilities (network: Network, options: { signal: AbortSignal }): Promise<void> {
    const { node, log } = this.components
    const agents = this.agents(network)
    if (agents.length === 0 && !this.withAgents.has(network.name)) return
    try {
      const record = await this.signCapabilities(network, agents)
      for await (const _event of node.services.dht.put(capabilityRecordKey(network.key, node.peerId), record.bytes, options)) {}
      for (const term of capabilityTerms(record.agents)) {
        const [kind, text] = [term.slice(0, term.indexOf(':')) as 'skill' | 'tool', term.slice(term.indexOf(':') + 1)]
        await node.contentRouting.provide(capabilityProvidersCid(kind, network.key, text), options)
      }
      if (agents.length > 0) this.withAgents.add(network.name)
      else this.withAgents.delete(network.name)
      const summary = record.agents.map(agent => `${agent.service} (${agent.kind}: ${agent.skills.map(skill => skill.id).join(', ')})`)
      if (this.announcedAgents.get(network.name) !== summary.join('; ')) {
        this.announcedAgents.set(network.name, summary.join('; '))
        log.info({ network: network.name, agents: summary }, 'capability record published')
      }
    } catch (err) {
      if (!this.controller.signal.aborted) log.debug({ network: network.name, err: describeError(err) }, 'cannot publish the capability record yet (retrying at the next refresh)')
    }
  }
}
