import { multiaddr } from '@multiformats/multiaddr'
import { StunServer } from './stun/index.ts'
import { stunEndpoints } from './stun-endpoints.ts'
import type { Logger } from '../log/logger.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RelayStunComponents {
  log: Logger
}

/**
 * The STUN responders of a relay node, one per TCP listen address (stun-endpoints.ts).
 * A port that cannot be bound is logged and skipped: the relay still relays, and its
 * peers' ICE falls back to the configured ICE servers.
 */
export class RelayStun {
  private readonly servers: StunServer[] = []
  private readonly log: Logger

  constructor (components: RelayStunComponents) {
    this.log = components.log
  }

  async start (listen: string[], bound: Multiaddr[]): Promise<void> {
    for (const endpoint of stunEndpoints(listen.map(address => multiaddr(address)), bound)) {
      const server = new StunServer({ ...endpoint, log: (message, err) => { this.log.warn({ err: err.message }, message) } })
      try {
        await server.start()
        this.servers.push(server)
      } catch (err: any) {
        this.log.warn({ host: endpoint.host, port: endpoint.port, err: err.message }, 'cannot answer STUN on this address')
      }
    }
    if (this.servers.length > 0) this.log.info({ stun: this.endpoints() }, 'answering STUN binding requests')
  }

  async stop (): Promise<void> {
    await Promise.all(this.servers.splice(0).map(async server => server.stop()))
  }

  /** `udp/host:port` of each responder, for `status` */
  endpoints (): string[] {
    return this.servers.flatMap(server => {
      const address = server.address()
      return address == null ? [] : [`udp/${address.host}:${address.port}`]
    })
  }
}
