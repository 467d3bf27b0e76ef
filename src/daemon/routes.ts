import { badRequest, MAX_PING_COUNT } from '../control/protocol.ts'
import { JsonLines } from './control-server.ts'
import { parsePeerTarget, pingPeer } from './ping.ts'
import { idView, peersView, statusView } from './views.ts'
import type { Routes } from './control-server.ts'
import type { StatusContext } from './views.ts'
import type { MeshNode } from '../node/create-node.ts'

/** The control API's calls; each is a thin view of the node's state. */
export function controlRoutes (node: MeshNode, context: StatusContext): Routes {
  return {
    'GET /id': async () => idView(node),
    'GET /status': async () => statusView(node, context),
    'GET /peers': async () => peersView(node),
    'POST /ping': async ({ body, signal }) => {
      const target = parsePeerTarget(body.peer)
      const count = body.count ?? 3
      if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_PING_COUNT) {
        throw badRequest(`count must be a whole number from 1 to ${MAX_PING_COUNT}`)
      }
      return new JsonLines(pingPeer(node, target, count as number, signal))
    }
  }
}
