import { RELAY_V2_STOP_CODEC } from '@libp2p/circuit-relay-v2'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { HandshakeOutcome } from '../membership/membership-service.ts'
import { pathOf } from '../events/mesh-watch.ts'
import { relaysOf } from '../addresses/reachability.ts'
import { VERSION } from '../version.ts'
import type { EventBus } from '../events/index.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { TunnelLabels, TunnelObserver } from './tunnel-stats.ts'

/** Time to the first byte of a new tunnel: from a loopback round trip (about a millisecond) to a slow relayed dial. */
export const FIRST_BYTE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * agentmesh's own Prometheus metrics (`agentmesh_*`), in the registry that libp2p's
 * metrics (`@libp2p/prometheus-metrics`) also fill. Labels are cardinality-safe: service
 * names come from this node's own services and forwards (a peer asking for a service that
 * is not exposed adds no series), and no label carries a peer id. The peer and relay
 * gauges are read from the node when Prometheus scrapes. Every metric is in the README.
 */
export class MeshMetrics implements TunnelObserver {
  readonly registry = new Registry()
  private node?: MeshNode
  private readonly tunnelsActive: Gauge<'service' | 'direction'>
  private readonly tunnels: Counter<'service' | 'direction' | 'status'>
  private readonly receiveBytes: Counter<'service' | 'direction'>
  private readonly transmitBytes: Counter<'service' | 'direction'>
  private readonly firstByteSeconds: Histogram<'service'>
  private readonly events: Counter<'type'>
  private readonly webhook: Counter<'outcome'>
  private readonly handshakes: Counter<'outcome'>
  private relayCircuits?: Counter

  constructor () {
    const registers = [this.registry]
    new Gauge({ name: 'agentmesh_info', help: 'Always 1; the agentmesh version in a label', labelNames: ['version'], registers }).set({ version: VERSION }, 1)
    this.tunnelsActive = new Gauge({ name: 'agentmesh_tunnels_active', help: 'Tunnels open now, by service and direction (inbound: to a service exposed here; outbound: from a local forward)', labelNames: ['service', 'direction'], registers })
    this.tunnels = new Counter({ name: 'agentmesh_tunnels_total', help: 'Tunnels ended, by service, direction and final status (ok, or the failure kind such as denied, unknown_service, peer_unreachable, reset)', labelNames: ['service', 'direction', 'status'], registers })
    this.receiveBytes = new Counter({ name: 'agentmesh_tunnel_receive_bytes_total', help: 'Bytes received from peers through tunnels and written to the local end, by service and direction', labelNames: ['service', 'direction'], registers })
    this.transmitBytes = new Counter({ name: 'agentmesh_tunnel_transmit_bytes_total', help: 'Bytes read from the local end and sent to peers through tunnels, by service and direction', labelNames: ['service', 'direction'], registers })
    this.firstByteSeconds = new Histogram({ name: 'agentmesh_tunnel_first_byte_seconds', help: 'Seconds from accepting a connection on a forward to the first byte back from the peer', labelNames: ['service'], buckets: FIRST_BYTE_BUCKETS, registers })
    this.events = new Counter({ name: 'agentmesh_events_total', help: 'Events emitted, by type (see agentmesh events)', labelNames: ['type'], registers })
    this.webhook = new Counter({ name: 'agentmesh_webhook_events_total', help: 'Events the webhook delivered, gave up on after its retries, or dropped from its full queue', labelNames: ['outcome'], registers })
    this.handshakes = new Counter({ name: 'agentmesh_membership_handshakes_total', help: 'Membership hellos this node took part in, by outcome: verified (a certificate of its networks), none (no certificate of its networks), refused (a certificate that did not verify), rate_limited, failed', labelNames: ['outcome'], registers })
    const metrics = this
    new Gauge({
      name: 'agentmesh_peers',
      help: 'Connected peers by path (direct or relayed) and transport',
      labelNames: ['path', 'transport'],
      registers,
      collect () {
        this.reset()
        const node = metrics.node
        if (node == null) return
        for (const peer of node.getPeers()) {
          const path = pathOf(node, peer)?.path
          if (path != null) this.inc({ path: path.connection, transport: path.transport })
        }
      }
    })
    new Gauge({
      name: 'agentmesh_known_peers',
      help: 'Peers in the peer store, connected or not',
      registers,
      async collect () {
        const node = metrics.node
        if (node != null) this.set((await node.peerStore.all()).filter(peer => !peer.id.equals(node.peerId)).length)
      }
    })
    new Gauge({
      name: 'agentmesh_relay_reservations',
      help: 'Relays holding a reservation for this node',
      registers,
      collect () {
        if (metrics.node != null) this.set(relaysOf(metrics.node.services.addresses.addresses()).length)
      }
    })
  }

  /** Reads the node's peers and relays at each scrape; on a relay, also counts the circuits it serves. */
  watch (node: MeshNode, bus: EventBus): void {
    this.node = node
    bus.subscribe(event => { this.events.inc({ type: event.type }) })
    const relay = node.services.relay
    if (relay == null) return
    const registers = [this.registry]
    new Gauge({
      name: 'agentmesh_relay_reservations_served',
      help: 'Reservations this relay holds for other nodes',
      registers,
      collect () { this.set(relay.reservations.size) }
    })
    new Gauge({
      name: 'agentmesh_relay_circuits_active',
      help: 'Relayed connections this relay carries now',
      registers,
      collect () {
        this.set(node.getConnections().reduce((sum, connection) =>
          sum + connection.streams.filter(stream => stream.protocol === RELAY_V2_STOP_CODEC && stream.direction === 'outbound').length, 0))
      }
    })
    this.relayCircuits = new Counter({ name: 'agentmesh_relay_circuits_total', help: 'Relayed connections this relay has set up', registers })
    countCircuits(relay, () => { this.relayCircuits?.inc() })
  }

  webhookOutcome (outcome: 'delivered' | 'failed' | 'dropped'): void {
    this.webhook.inc({ outcome })
  }

  handshake (outcome: HandshakeOutcome): void {
    this.handshakes.inc({ outcome })
  }

  opened (labels: TunnelLabels): void {
    this.tunnelsActive.inc({ ...labels })
  }

  closed (labels: TunnelLabels): void {
    this.tunnelsActive.dec({ ...labels })
  }

  ended (labels: TunnelLabels, status: string): void {
    this.tunnels.inc({ ...labels, status })
  }

  bytesIn (labels: TunnelLabels, bytes: number): void {
    this.receiveBytes.inc({ ...labels }, bytes)
  }

  bytesOut (labels: TunnelLabels, bytes: number): void {
    this.transmitBytes.inc({ ...labels }, bytes)
  }

  firstByte (labels: TunnelLabels, seconds: number): void {
    this.firstByteSeconds.observe({ service: labels.service }, seconds)
  }
}

/**
 * circuit-relay-v2 has no event for a circuit it sets up; its server's `stopHop` (the
 * STOP request to the destination) resolves to a stream exactly when one is. Left alone
 * if a future version renames it: the counter then stays at 0 and the gauge still works.
 */
function countCircuits (relay: object, onCircuit: () => void): void {
  const server = relay as { stopHop?: (...args: unknown[]) => Promise<unknown> }
  const stopHop = server.stopHop
  if (typeof stopHop !== 'function') return
  server.stopHop = async (...args: unknown[]) => {
    const stream = await stopHop.apply(relay, args)
    if (stream != null) onCircuit()
    return stream
  }
}
