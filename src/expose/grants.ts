import { Status } from '../../protocols/envelope/index.ts'
import { encodeProxyHeader, ProxyHeaderError, proxySourcePort } from '../../protocols/tunnel/proxy-header.ts'
import { virtualIpv6Bytes } from '../../protocols/tunnel/virtual-address.ts'
import { ALLOWLIST_VNI } from '../node/constants.ts'
import type { AgentProxy } from '../agents/agent-proxy.ts'
import type { ServiceRecord } from '../control/api.ts'
import type { Authorization } from '../../protocols/tunnel/index.ts'
import type { Membership, Network } from '../membership/membership.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { PeerId } from '@libp2p/interface'

/** Who opened a tunnel, as the service's grants and its PROXY header see it. */
export interface Caller {
  peerId: PeerId
  name?: string
  groups: string[]
  /** the network the tunnel is in; none for an allowlist tunnel (VNI 0) */
  network?: Network
}

type Refusal = { refuse: { status: typeof Status.DENIED | typeof Status.WRONG_NETWORK, reason: string } }

export interface GrantComponents {
  self: PeerId
  membership: Membership
  trust: TrustStore
  /** the HTTP proxy in front of A2A agents and MCP servers, which names the caller in headers */
  agents?: AgentProxy
}

/**
 * The grant check of one tunnel (run on every new tunnel): VNI 0 is the allowlist's,
 * another VNI must be a network the service is exposed in and one in which the caller
 * holds a valid certificate; then `--allow` (peer ids, names, `@group`s) narrows it. A
 * service exposed with `--proxy-protocol` gets the caller's identity first; the tunnels
 * of an agent (`--a2a`, `--mcp`) go through the agent proxy, which names the caller in
 * HTTP headers.
 */
export class Grants {
  private readonly components: GrantComponents
  /** PROXY headers sent since start: each takes the next source port */
  private headers = 0

  constructor (components: GrantComponents) {
    this.components = components
  }

  authorize (peer: PeerId, vni: number, service: ServiceRecord & { host: string, port: number }): Authorization {
    const caller = this.admits(peer, vni, service)
    if ('refuse' in caller) return caller
    const { agents } = this.components
    if (service.agent != null && agents != null) {
      const prelude = agents.admit({ name: service.name, host: service.host, port: service.port, agent: service.agent }, {
        peerId: peer.toString(),
        ...(caller.name != null && { name: caller.name }),
        groups: caller.groups,
        ...(caller.network != null && { network: caller.network.name })
      })
      return { prelude, socketPath: agents.socketPath }
    }
    if (!service.proxyProtocol) return {}
    try {
      return { prelude: this.proxyHeader(peer, vni, service, caller) }
    } catch (err: any) {
      if (!(err instanceof ProxyHeaderError)) throw err
      return { refuse: { status: Status.SERVICE_UNREACHABLE, reason: `no PROXY header can name this caller: ${err.message}` } }
    }
  }

  /** Built before the service is dialled (tunnel SPEC 6.1). */
  private proxyHeader (peer: PeerId, vni: number, service: { port: number }, caller: Caller): Uint8Array {
    const networkKey = caller.network?.key
    return encodeProxyHeader({
      source: virtualIpv6Bytes(networkKey, peer),
      destination: virtualIpv6Bytes(networkKey, this.components.self),
      sourcePort: proxySourcePort(this.headers++),
      destinationPort: service.port,
      peerId: peer.toString(),
      name: caller.name,
      groups: caller.groups,
      vni
    })
  }

  /** The grant check alone: who the caller is when the service admits it in that network, else the refusal. */
  admits (peer: PeerId, vni: number, service: ServiceRecord): Caller | Refusal {
    const caller = this.caller(peer, vni, service)
    if ('refuse' in caller) return caller
    if (!allows(service.allow, caller)) {
      return { refuse: { status: Status.DENIED, reason: `${caller.name ?? peer.toString()} is not allowed to use ${service.name} (allowed: ${service.allow.join(', ')})` } }
    }
    return caller
  }

  private caller (peer: PeerId, vni: number, service: ServiceRecord): Caller | Refusal {
    const { membership, trust } = this.components
    if (vni === ALLOWLIST_VNI) {
      const trusted = trust.get(peer.toString())
      if (trusted == null) return { refuse: { status: Status.DENIED, reason: 'VNI 0 is for allowlisted peers, and this peer is not on the allowlist' } }
      return { peerId: peer, name: trusted.name, groups: trusted.groups }
    }
    const network = membership.byVni(vni)
    if (network == null) return { refuse: { status: Status.WRONG_NETWORK, reason: `this node is in no network with VNI ${vni}` } }
    if (service.networks.length > 0 && !service.networks.includes(network.name)) {
      return { refuse: { status: Status.WRONG_NETWORK, reason: `${service.name} is not exposed in network ${network.name}` } }
    }
    const certificate = membership.certificateOf(peer, network)
    if (certificate == null) return { refuse: { status: Status.DENIED, reason: `the peer holds no valid certificate of ${network.name}` } }
    return { peerId: peer, name: certificate.name, groups: certificate.groups, network }
  }
}

/** No `--allow`: everyone the network or allowlist admits. Else any entry: `@group`, a name, or a peer id. */
function allows (allow: string[], caller: Caller): boolean {
  if (allow.length === 0) return true
  return allow.some(entry => entry.startsWith('@')
    ? caller.groups.includes(entry.slice(1))
    : entry === caller.name || entry === caller.peerId.toString())
}
