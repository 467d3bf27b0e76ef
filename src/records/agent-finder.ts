import { createHash } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  capabilityProvidersCid, capabilityRecordKey, checkTerm, decodeCapabilityRecord, MembershipError, normaliseTerm,
  verifyCapabilityRecord
} from '../../protocols/records/index.ts'
import { LogOnce } from '../log/log-once.ts'
import { UserError, describeError } from '../errors.ts'
import { streamConnection } from '../node/dial-peer.ts'
import { eachLimited } from './service-finder.ts'
import type { AgentService, CapabilityRecord } from '../../protocols/records/index.ts'
import type { Logger } from '../log/logger.ts'
import type { Membership, Network } from '../membership/membership.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { ServiceFinder } from './service-finder.ts'
import type { FindQuery, FoundAgent } from '../control/api.ts'
import type { PeerId } from '@libp2p/interface'

/** One DHT lookup of a capability record may take this long. */
const LOOKUP_TIMEOUT_MS = 10_000
/** Once a valid record has come back, the lookup waits this much longer for a newer one (as the resolver does). */
const NEWER_RECORD_GRACE_MS = 250

export class FindError extends UserError {
  override name = 'FindError'
}

export interface AgentFinderComponents {
  node: MeshNode
  membership: Membership
  finder: ServiceFinder
  log: Logger
}

/**
 * `find --skill S | --tool T`: the members of this node's networks whose A2A agents have
 * that skill id or tag, or whose MCP servers have that tool (protocols/records/SPEC.md
 * section 12.5): the DHT's providers of the term's key, kept only when they are members
 * now (the membership handshake) and answer a ping, then each one's capability record,
 * verified as a reader must (network, revocation, peer, signature, expiry); nearest first.
 */
export class AgentFinder {
  private readonly components: AgentFinderComponents
  private readonly logged: LogOnce

  constructor (components: AgentFinderComponents) {
    this.components = components
    this.logged = new LogOnce(components.log)
  }

  async find (query: FindQuery): Promise<FoundAgent[]> {
    const { membership, finder } = this.components
    if ((query.skill == null) === (query.tool == null)) throw new FindError('give --skill or --tool (one of them)')
    const kind = query.tool != null ? 'tool' : 'skill'
    const term = normaliseTerm(query.tool ?? query.skill ?? '')
    try {
      checkTerm(term, kind)
    } catch (err: any) {
      throw new FindError(`--${kind} ${JSON.stringify(query.tool ?? query.skill)}: ${err.message}`)
    }
    const networks = query.network == null ? membership.networks() : [membership.network(query.network)].filter(network => network != null)
    if (networks.length === 0) throw new FindError(query.network == null ? 'this node is in no network: agents are found among the members of its networks' : `this node is in no network named "${query.network}"`)
    const found: FoundAgent[] = []
    for (const network of networks) {
      const providers = await finder.members(capabilityProvidersCid(kind, network.key, term), network)
      await eachLimited(providers, async provider => {
        const record = await this.lookup(network, provider.peerId)
        if (record == null) return
        for (const agent of record.agents) {
          const matches = kind === 'tool'
            ? agent.kind === 'mcp' && agent.skills.some(skill => skill.id === term)
            : agent.kind === 'a2a' && agent.skills.some(skill => skill.id === term || skill.tags.includes(term))
          if (matches) found.push(this.view(record, network, agent, Math.round(provider.rttMs * 100) / 100))
        }
      })
    }
    return found.sort((a, b) => a.rttMs - b.rttMs || a.member.localeCompare(b.member) || a.service.localeCompare(b.service))
  }

  /** The agent `service` of `peer` (a peer id), from its capability record in `network` (else in each network in turn), or undefined. */
  async describe (peer: string, service: string, network?: string): Promise<FoundAgent | undefined> {
    const { membership } = this.components
    const id = peerIdFromString(peer)
    for (const candidate of network == null ? membership.networks() : [membership.network(network)].filter(entry => entry != null)) {
      const record = await this.lookup(candidate, id)
      const agent = record?.agents.find(entry => entry.service === service)
      if (record != null && agent != null) return this.view(record, candidate, agent, NaN)
    }
    return undefined
  }

  private view (record: CapabilityRecord, network: Network, agent: AgentService, rttMs: number): FoundAgent {
    const connection = streamConnection(this.components.node, record.certificate.peerId)
    return {
      member: record.certificate.name,
      peerId: record.certificate.peerId.toString(),
      network: network.name,
      service: agent.service,
      kind: agent.kind,
      title: agent.title,
      path: agent.path,
      ...(agent.kind === 'mcp' ? { tools: agent.skills.map(skill => skill.id) } : { skills: agent.skills }),
      connection: connection == null || connection.direct ? 'direct' : 'relayed',
      rttMs
    }
  }

  /** The newest capability record of `peer` in `network` that passes every check, or undefined. */
  private async lookup (network: Network, peer: PeerId): Promise<CapabilityRecord | undefined> {
    const { node, log } = this.components
    let best: CapabilityRecord | undefined
    const enough = new AbortController()
    let grace: NodeJS.Timeout | undefined
    try {
      for await (const event of node.services.dht.get(capabilityRecordKey(network.key, peer), { signal: AbortSignal.any([enough.signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]) })) {
        if (event.name !== 'VALUE') continue
        const record = await this.accept(network, peer, event.value)
        if (record != null && (best == null || record.sequence > best.sequence)) best = record
        if (best != null) grace ??= setTimeout(() => { enough.abort() }, NEWER_RECORD_GRACE_MS)
      }
    } catch (err) {
      if (!enough.signal.aborted) log.debug({ peer: peer.toString(), network: network.name, err: describeError(err) }, 'capability lookup ended')
    } finally {
      clearTimeout(grace)
    }
    return best
  }

  private async accept (network: Network, peer: PeerId, bytes: Uint8Array): Promise<CapabilityRecord | undefined> {
    try {
      const record = decodeCapabilityRecord(bytes)
      await verifyCapabilityRecord(record, { now: Math.floor(Date.now() / 1000), networkKey: network.key, revocations: network.revocations, peerId: peer })
      return record
    } catch (err) {
      if (!(err instanceof MembershipError)) throw err
      this.logged.warn(`${createHash('sha256').update(bytes).digest('hex')} ${err.name}`, { network: network.name, peer: peer.toString(), error: err.name }, `capability record ignored: ${err.message}`)
      return undefined
    }
  }
}
