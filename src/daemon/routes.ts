import { ApiError, badRequest, MAX_PING_COUNT, notFound } from '../control/protocol.ts'
import { UserError } from '../errors.ts'
import { connectAgent } from '../agents/connect.ts'
import { readAgent } from '../agents/read-agent.ts'
import { encodeToken } from '../../protocols/membership/index.ts'
import { parseDuration } from '../membership/duration.ts'
import { ResolveError } from '../records/resolver.ts'
import { JsonLines } from './control-server.ts'
import { parsePeerTarget, pingPeer } from './ping.ts'
import { certificateView, idView, membersView, networkView, peersView, statusView } from './views.ts'
import type { Routes } from './control-server.ts'
import type { AllServicesView, IssuedView, JoinedView, RenewedView, RevokedView } from '../control/api.ts'
import type { StatusComponents, StatusContext } from './views.ts'
import type { EventBus } from '../events/index.ts'
import type { BootstrapKeeper } from '../discovery/bootstrap-keeper.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { PeerTrust } from '../membership/peer-trust.ts'
import type { RecordPublisher } from '../records/record-publisher.ts'
import type { Resolver } from '../records/resolver.ts'
import type { AgentFinder } from '../records/agent-finder.ts'
import type { ServiceFinder } from '../records/service-finder.ts'
import type { MapManager } from '../vaddr/map-manager.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { UiServer } from '../ui/ui-server.ts'

export interface RouteComponents extends StatusComponents {
  trust: TrustStore
  /** the membership protocol's side: pushes, revocations, handshakes */
  members: MembershipService
  peers: PeerTrust
  keeper: BootstrapKeeper
  publisher: RecordPublisher
  resolver: Resolver
  finder: ServiceFinder
  /** finds agents by skill or tool */
  agents: AgentFinder
  maps: MapManager
  events?: EventBus
  /** the dashboard, started by the first `GET /ui` */
  ui?: UiServer
}

/** How long an invitation's certificate is valid when `--ttl` is not given. */
const DEFAULT_CERTIFICATE_TTL = '365d'

/** The control API's calls; each is a thin view of, or a change to, the daemon's state. */
export function controlRoutes (components: RouteComponents, context: StatusContext): Routes {
  const { node, trust, services, forwards, membership, members, peers, keeper, publisher, resolver, finder, agents, maps } = components
  const knownNetworks = (names: string[] | undefined): string[] | undefined => {
    const unknown = names?.find(name => membership.network(name) == null)
    if (unknown != null) throw new ApiError(400, 'MembershipCommandError', `this node is in no network named "${unknown}": agentmesh network ls`)
    return names
  }
  const token = (certificate: Parameters<typeof encodeToken>[0]['certificate']): string =>
    encodeToken({ certificate, addresses: node.getMultiaddrs().map(String) })
  return {
    'GET /id': async () => idView(node),
    'GET /status': async () => statusView(components, context),
    'GET /peers': async () => peersView(node, peers),
    'POST /ping': async ({ body, signal }) => {
      const target = parsePeerTarget(body.peer)
      const count = body.count ?? 3
      if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_PING_COUNT) {
        throw badRequest(`count must be a whole number from 1 to ${MAX_PING_COUNT}`)
      }
      return new JsonLines(pingPeer(node, target, count as number, signal))
    },
    'POST /events': async ({ body, signal }) => {
      const since = body.since
      if (since != null && (!Number.isInteger(since) || (since as number) < 0)) throw badRequest('since must be a whole number, 0 or more')
      if (components.events == null) throw notFound('this daemon has no event stream')
      return new JsonLines(components.events.stream(signal, since as number | undefined))
    },
    'GET /ui': async () => {
      if (components.ui == null) throw notFound('this daemon has no dashboard')
      return { url: await components.ui.open() }
    },
    'GET /trust': async () => trust.list(),
    'POST /trust': async ({ body }) => userError(async () => trust.add(text(body.peerId, 'peerId'), {
      name: optionalText(body.name, 'name'),
      groups: body.groups == null ? undefined : textList(body.groups, 'groups')
    })),
    'DELETE /trust': async ({ body }) => {
      const peerId = text(body.peerId, 'peerId')
      if (!await trust.remove(peerId)) throw notFound(`${peerId} is not trusted`)
      return { peerId }
    },
    'GET /services': async ({ query }) => query.get('all') == null
      ? services.list()
      : { local: await services.list(), published: await finder.published() } satisfies AllServicesView,
    'POST /services': async ({ body }) => userError(async () => {
      const name = text(body.name, 'name')
      const target = text(body.target, 'target')
      const networks = knownNetworks(optionalList(body.networks, 'networks'))
      // an agent is read from the service itself, and must fit its capability record, before anything is stored
      const agent = body.agent == null ? undefined : await readAgent(text(body.agent, 'agent'), target, optionalText(body.mcpPath, 'mcpPath'))
      if (agent != null) await publisher.checkAgent(name, agent, networks ?? [])
      return services.expose(name, target, {
        proto: optionalText(body.proto, 'proto'),
        allow: optionalList(body.allow, 'allow'),
        networks,
        proxyProtocol: body.proxyProtocol === true,
        publish: body.publish === true,
        agent
      }).finally(() => { publisher.publishSoon() })
    }),
    'DELETE /services': async ({ body }) => {
      const name = text(body.name, 'name')
      if (!await services.unexpose(name)) throw notFound(`no service "${name}" is exposed`)
      publisher.publishSoon()
      return { name }
    },
    'GET /agents': async ({ query }) => userError(async () => agents.find({
      skill: query.get('skill') ?? undefined,
      tool: query.get('tool') ?? undefined,
      network: knownNetworks(query.get('network') == null ? undefined : [query.get('network') as string])?.[0]
    })),
    'POST /connect': async ({ body }) => {
      const network = optionalText(body.network, 'network')
      knownNetworks(network == null ? undefined : [network])
      return userError(async () => connectAgent({
        skill: optionalText(body.skill, 'skill'),
        tool: optionalText(body.tool, 'tool'),
        target: optionalText(body.target, 'target'),
        network
      }, { forwards, agents }))
    },
    'GET /forwards': async () => forwards.list(),
    'POST /forwards': async ({ body }) => {
      const network = optionalText(body.network, 'network')
      knownNetworks(network == null ? undefined : [network])
      return userError(async () => forwards.add(text(body.listen, 'listen'), text(body.target, 'target'), { network, gateway: optionalBoolean(body.gateway, 'gateway') }))
    },
    'DELETE /forwards': async ({ body }) => {
      const listen = text(body.listen, 'listen')
      if (!await userError(async () => forwards.remove(listen))) throw notFound(`nothing is forwarded from ${listen}`)
      return { listen }
    },
    'GET /networks': async () => membership.networks().map(networkView),
    'POST /networks': async ({ body }) => userError(async () => {
      const network = await membership.create(text(body.name, 'name'), optionalText(body.memberName, 'memberName') ?? context.name ?? 'admin')
      components.events?.emit('membership.changed', { change: 'network.created', network: network.name })
      publisher.publishSoon()
      return networkView(network)
    }),
    'POST /invites': async ({ body }) => userError(async () => {
      const { network, certificate, revocations } = await membership.issue(optionalText(body.network, 'network'), text(body.peerId, 'peerId'), {
        name: text(body.name, 'name'),
        groups: optionalList(body.groups, 'groups'),
        ttlSeconds: ttl(body.ttl),
        role: body.relay === true ? 'relay' : undefined
      })
      if (revocations != null) await members.spread([revocations])
      return { network: network.name, ...certificateView(certificate), token: token(certificate) } satisfies IssuedView
    }),
    'POST /renewals': async ({ body }) => userError(async () => {
      const { network, certificate, revocations } = await membership.issue(optionalText(body.network, 'network'), text(body.member, 'member'), {
        groups: optionalList(body.groups, 'groups'),
        ttlSeconds: ttl(body.ttl)
      })
      // the holder gets its new certificate before the others learn that its old serial is revoked
      const delivered = await members.deliver(certificate)
      if (revocations != null) await members.spread([revocations])
      return { network: network.name, ...certificateView(certificate), delivered, token: token(certificate) } satisfies RenewedView
    }),
    'POST /revocations': async ({ body }) => userError(async () => {
      const { network, peerId, revocations } = await membership.revoke(optionalText(body.network, 'network'), text(body.member, 'member'))
      await members.spread([revocations])
      return { network: network.name, peerId: peerId.toString(), version: Number(revocations.version), revoked: revocations.entries.length } satisfies RevokedView
    }),
    'POST /join': async ({ body }) => userError(async () => {
      const { network, addresses } = await membership.join(text(body.token, 'token'))
      components.events?.emit('membership.changed', { change: 'network.joined', network: network.name, name: network.certificate.name, groups: network.certificate.groups })
      await keeper.add(addresses)
      publisher.publishSoon()
      // connections made before the join had no hello to say this node is a member
      void members.rehello()
      void members.refreshFromDht()
      return { ...networkView(network), bootstrap: addresses } satisfies JoinedView
    }),
    'GET /members': async () => membersView(node, membership),
    'GET /resolve': async ({ query, signal }) => {
      const name = text(query.get('name'), 'name')
      try {
        return await resolver.resolve(name, { network: query.get('network') ?? undefined, signal })
      } catch (err: any) {
        if (err instanceof ResolveError) throw notFound(err.message)
        throw err
      }
    },
    'GET /maps': async () => maps.list(),
    'POST /maps': async ({ body }) => userError(async () => maps.map(text(body.name, 'name'), { network: optionalText(body.network, 'network') })),
    'DELETE /maps': async ({ body }) => {
      const name = text(body.name, 'name')
      if (!await maps.unmap(name)) throw notFound(`${name} is not mapped`)
      return { name }
    },
    'GET /hosts': async () => maps.hosts()
  }
}

function ttl (value: unknown): number {
  try {
    return parseDuration(optionalText(value, 'ttl') ?? DEFAULT_CERTIFICATE_TTL)
  } catch (err: any) {
    throw badRequest(`--ttl ${err.message}`)
  }
}

/** Turns the errors a user's input can cause (UserError) into 400 answers carrying their message. */
async function userError<T> (action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (err: any) {
    if (err instanceof UserError) throw new ApiError(400, err.name, err.message)
    throw err
  }
}

function text (value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') throw badRequest(`${key} must be a non-empty string`)
  return value
}

function optionalText (value: unknown, key: string): string | undefined {
  return value == null ? undefined : text(value, key)
}

function optionalList (value: unknown, key: string): string[] | undefined {
  return value == null ? undefined : textList(value, key)
}

function optionalBoolean (value: unknown, key: string): boolean | undefined {
  if (value != null && typeof value !== 'boolean') throw badRequest(`${key} must be true or false`)
  return value as boolean | undefined
}

function textList (value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) throw badRequest(`${key} must be a list of strings`)
  return value
}
