import { EventBus, watchMesh, WebhookSink } from '../events/index.ts'
import { MeshMetrics } from '../metrics/mesh-metrics.ts'
import { MetricsServer } from '../metrics/metrics-server.ts'
import { dashboardSnapshot } from '../ui/snapshot.ts'
import { UiServer } from '../ui/ui-server.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { TrustStore } from '../trust/trust-store.ts'
import type { TunnelObserver } from '../metrics/tunnel-stats.ts'
import type { DashboardComponents } from '../ui/snapshot.ts'
import type { Registry } from 'prom-client'

export interface ObservabilityComponents {
  log: Logger
}

/**
 * What lets an operator see the node: the event bus (and what feeds it from libp2p and
 * the trust store), the webhook, the Prometheus metrics with their HTTP server, and the
 * dashboard's server (started by the first `agentmesh ui`).
 * Metrics exist only with `metrics.listen` set: without it nothing counts per tunnel.
 */
export class Observability {
  readonly events: EventBus
  readonly metrics?: MeshMetrics
  private readonly config: Config
  private readonly log: Logger
  private metricsServer?: MetricsServer
  private webhook?: WebhookSink
  private unwatch?: () => void
  private ui?: UiServer

  constructor ({ log }: ObservabilityComponents, config: Config) {
    this.config = config
    this.log = log
    this.events = new EventBus({ log })
    if (config.metrics.listen != null) this.metrics = new MeshMetrics()
  }

  get tunnelObserver (): TunnelObserver | undefined {
    return this.metrics
  }

  /** The registry libp2p's own metrics go into, when metrics are on. */
  get metricsRegistry (): Registry | undefined {
    return this.metrics?.registry
  }

  /** Starts the watchers, the webhook and the metrics server (whose port must be free: the start fails otherwise). */
  async start (node: MeshNode, trust: TrustStore): Promise<void> {
    const { events, config, log } = this
    trust.onChange(change => { events.emit('trust.changed', change) })
    this.metrics?.watch(node, events)
    if (config.events.webhook != null) {
      this.webhook = new WebhookSink({
        bus: events,
        log,
        outcome: outcome => { this.metrics?.webhookOutcome(outcome) }
      }, { url: config.events.webhook, retries: config.events.webhookRetries, queue: config.events.webhookQueue })
      this.webhook.start()
    }
    this.unwatch = watchMesh(node, events, log)
    if (this.metrics != null && config.metrics.listen != null) {
      this.metricsServer = new MetricsServer({ registry: this.metrics.registry, log }, { listen: config.metrics.listen })
      await this.metricsServer.start()
    }
  }

  /** The dashboard of the node these components make up; not listening until its `open()`. */
  dashboard (components: DashboardComponents): UiServer {
    this.ui = new UiServer({
      snapshot: async signal => dashboardSnapshot(components, signal),
      events: this.events,
      log: this.log
    }, { listen: this.config.ui.listen })
    return this.ui
  }

  async stop (): Promise<void> {
    this.unwatch?.()
    await this.ui?.stop()
    await this.metricsServer?.stop()
    await this.webhook?.stop()
  }
}
