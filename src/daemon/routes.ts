import { ApiError, badRequest, MAX_PING_COUNT, notFound } from '../control/protocol.ts'
import { ExposeError } from '../expose/expose-registry.ts'
import { ForwardError } from '../forward/forward-manager.ts'
import { TrustError } from '../trust/trust-store.ts'
import { JsonLines } from './control-server.ts'
import { parsePeerTarget, pingPeer } from './ping.ts'
import { idView, peersView, statusView } from './views.ts'
import type { Routes } from './control-server.ts'
import type { StatusContext } from './views.ts'
import type { ExposeRegistry } from '../expose/expose-registry.ts'
import type { ForwardManager } from '../forward/forward-manager.ts'
import type { RelayStun } from '../nat/relay-stun.ts'
import type { MeshNode } from '../node/create-node.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { TunnelMemoryBudget } from '../tunnel/memory-budget.ts'

export interface RouteComponents {
  node: MeshNode
  trust: TrustStore
  exposes: ExposeRegistry
  forwards: ForwardManager
  /** a relay node's STUN responders */
  stun?: RelayStun
  /** the tunnel memory budget */
  memory?: TunnelMemoryBudget
}

/** The control API's calls; each is a thin view of, or a change to, the daemon's state. */
export function controlRoutes (components: RouteComponents, context: StatusContext): Routes {
  const { node, trust, exposes, forwards } = components
  return {
    'GET /id': async () => idView(node),
    'GET /status': async () => statusView(components, context),
    'GET /peers': async () => peersView(node, trust),
    'POST /ping': async ({ body, signal }) => {
      const target = parsePeerTarget(body.peer)
      const count = body.count ?? 3
      if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_PING_COUNT) {
        throw badRequest(`count must be a whole number from 1 to ${MAX_PING_COUNT}`)
      }
      return new JsonLines(pingPeer(node, target, count as number, signal))
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
    'GET /services': async () => exposes.list(),
    'POST /services': async ({ body }) => userError(async () => exposes.expose(text(body.name, 'name'), text(body.target, 'target'), optionalText(body.proto, 'proto'))),
    'DELETE /services': async ({ body }) => {
      const name = text(body.name, 'name')
      if (!await exposes.unexpose(name)) throw notFound(`no service "${name}" is exposed`)
      return { name }
    },
    'GET /forwards': async () => forwards.list(),
    'POST /forwards': async ({ body }) => userError(async () => forwards.add(text(body.listen, 'listen'), text(body.target, 'target'), { gateway: optionalBoolean(body.gateway, 'gateway') })),
    'DELETE /forwards': async ({ body }) => {
      const listen = text(body.listen, 'listen')
      if (!await userError(async () => forwards.remove(listen))) throw notFound(`nothing is forwarded from ${listen}`)
      return { listen }
    }
  }
}

/** Turns the errors a user's input can cause into 400 answers carrying their message. */
async function userError<T> (action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (err: any) {
    if (err instanceof TrustError || err instanceof ExposeError || err instanceof ForwardError) throw new ApiError(400, err.name, err.message)
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

function optionalBoolean (value: unknown, key: string): boolean | undefined {
  if (value != null && typeof value !== 'boolean') throw badRequest(`${key} must be true or false`)
  return value as boolean | undefined
}

function textList (value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) throw badRequest(`${key} must be a list of strings`)
  return value
}
