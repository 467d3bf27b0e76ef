import { createServer } from 'node:http'
import { conventionalNames } from './exposition.ts'
import { formatHostPort, listenOn, parseHostPort } from '../addresses/host-port.ts'
import type { Logger } from '../log/logger.ts'
import type { Server } from 'node:http'
import type { Registry } from 'prom-client'

export interface MetricsServerInit {
  /** `host:port` (`metrics.listen`, `--metrics`) */
  listen: string
}

export interface MetricsServerComponents {
  registry: Registry
  log: Logger
}

/** Serves the registry as Prometheus text at `/metrics` (and nothing else: the rest is 404). */
export class MetricsServer {
  private readonly init: MetricsServerInit
  private readonly components: MetricsServerComponents
  private readonly server: Server
  /** `host:port` as bound (port 0 replaced by the one it got) */
  address = ''

  constructor (components: MetricsServerComponents, init: MetricsServerInit) {
    this.components = components
    this.init = init
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end()
      } else if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('agentmesh serves its metrics at /metrics\n')
      } else {
        components.registry.metrics().then(text => {
          res.writeHead(200, { 'content-type': components.registry.contentType }).end(req.method === 'HEAD' ? undefined : conventionalNames(text))
        }, (err: any) => {
          components.log.warn({ err: err?.message }, 'metrics: collecting failed')
          res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting the metrics failed\n')
        })
      }
    })
    // a client that misbehaves loses its own connection, nothing else
    this.server.on('clientError', (_err, socket) => { socket.destroy() })
  }

  async start (): Promise<void> {
    this.address = formatHostPort(await listenOn(this.server, parseHostPort(this.init.listen, { allowZero: true })).catch((err: any) => {
      throw new Error(`cannot serve metrics on ${this.init.listen}: ${err.code ?? err.message} (metrics.listen, --metrics)`)
    }))
    this.components.log.info({ address: this.address }, `metrics at http://${this.address}/metrics`)
  }

  async stop (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
  }
}
