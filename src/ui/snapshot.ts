import { relayOf } from '../addresses/peer-ids.ts'
import { pathOf } from '../events/mesh-watch.ts'
import type { Routes } from '../daemon/control-server.ts'
import type { ForwardView, PeerView, ServiceRecord, StatusView, TunnelStatsView } from '../control/api.ts'
import type { ServiceRegistry } from '../expose/service-registry.ts'
import type { ForwardManager } from '../forward/forward-manager.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { Connection } from '@libp2p/interface'

export interface DashboardPeer extends PeerView {
  /** the connection's multiplexer protocol, such as `/yamux/1.0.0` */
  muxer?: string
  /** the relay a relayed path goes through */
  relay?: string
}

/** What the dashboard shows, sent every second; byte counters are totals (the page turns them into rates). */
export interface DashboardSnapshot {
  time: number
  node: StatusView
  peers: DashboardPeer[]
  services: Array<ServiceRecord & TunnelStatsView>
  forwards: ForwardView[]
}

export interface DashboardComponents {
  node: MeshNode
  services: ServiceRegistry
  forwards: ForwardManager
  /** the control API's calls: the page shows what `status` and `peers` answer */
  routes(): Routes
}

export async function dashboardSnapshot (components: DashboardComponents, signal: AbortSignal): Promise<DashboardSnapshot> {
  const { node, services, forwards } = components
  const routes = components.routes()
  const call = async <T>(route: string): Promise<T> => {
    const handler = routes[route]
    if (handler == null) throw new Error(`no control API call ${route}`)
    return await handler({ body: {}, query: new URLSearchParams(), signal }) as T
  }
  const [status, peers] = await Promise.all([call<StatusView>('GET /status'), call<PeerView[]>('GET /peers')])
  const connected = new Map(node.getPeers().map(peer => [peer.toString(), peer]))
  return {
    time: Date.now(),
    node: status,
    peers: peers.map(peer => {
      const id = connected.get(peer.peerId)
      return { ...peer, ...(id != null && connectionDetails(pathOf(node, id)?.connection)) }
    }),
    // the counters, without the up/down probe `services` makes
    services: services.counters(),
    forwards: forwards.list()
  }
}

function connectionDetails (connection: Connection | undefined): Partial<DashboardPeer> {
  if (connection == null) return {}
  const relay = relayOf(connection.remoteAddr)
  return {
    ...(connection.multiplexer != null && { muxer: connection.multiplexer }),
    ...(relay != null && !connection.direct && { relay })
  }
}
