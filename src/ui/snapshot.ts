import { pathOf } from '../events/mesh-watch.ts'
import { peersView, statusView } from '../daemon/views.ts'
import type { RouteComponents } from '../daemon/routes.ts'
import type { PeerView, StatusContext, StatusView } from '../daemon/views.ts'
import type { ExposeRecord } from '../expose/expose-registry.ts'
import type { ForwardView } from '../forward/forward-manager.ts'
import type { TunnelStatsView } from '../tunnel/tunnel-stats.ts'
import type { PeerId } from '@libp2p/interface'

export interface DashboardPeer extends PeerView {
  /** the connection's encryption and multiplexer protocols, such as `/noise` and `/yamux/1.0.0` */
  encryption?: string
  muxer?: string
  /** the relay a relayed path goes through */
  relay?: string
}

/** What the dashboard shows, sent every second; byte counters are totals (the page turns them into rates). */
export interface DashboardSnapshot {
  time: number
  node: StatusView
  peers: DashboardPeer[]
  services: Array<ExposeRecord & TunnelStatsView>
  forwards: ForwardView[]
}

export type DashboardComponents = RouteComponents

export async function dashboardSnapshot (components: DashboardComponents, context: StatusContext): Promise<DashboardSnapshot> {
  const { node, trust, exposes, forwards } = components
  const peers = await peersView(node, trust)
  const byId = new Map(node.getPeers().map(peer => [peer.toString(), peer]))
  return {
    time: Date.now(),
    node: await statusView(components, context),
    peers: peers.map(peer => ({ ...peer, ...connectionDetails(components, byId.get(peer.peerId)) })),
    services: exposes.counters(),
    forwards: forwards.list()
  }
}

function connectionDetails ({ node }: DashboardComponents, peer: PeerId | undefined): Partial<DashboardPeer> {
  const connection = peer == null ? undefined : pathOf(node, peer)?.connection
  if (connection == null) return {}
  const components = connection.remoteAddr.getComponents()
  const circuit = components.findIndex(component => component.name === 'p2p-circuit')
  const relay = circuit < 0 ? undefined : components.slice(0, circuit).findLast(component => component.name === 'p2p')?.value
  return {
    ...(connection.encryption != null && { encryption: connection.encryption }),
    ...(connection.multiplexer != null && { muxer: connection.multiplexer }),
    ...(relay != null && !connection.direct && { relay })
  }
}
