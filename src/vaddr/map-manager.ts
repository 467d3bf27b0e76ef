import { peerIdFromString } from '@libp2p/peer-id'
import { readJsonFile, writeJsonFile } from '../state/json-file.ts'
import { ForwardError } from '../forward/forward-manager.ts'
import { UserError, describeError } from '../errors.ts'
import { loopbackAddress } from './loopback-address.ts'
import type { MapRecord, MapView, ForwardView } from '../control/api.ts'
import type { ForwardManager } from '../forward/forward-manager.ts'
import type { Membership } from '../membership/membership.ts'
import type { MembershipService } from '../membership/membership-service.ts'
import type { PeerTrust } from '../membership/peer-trust.ts'
import type { Resolver } from '../records/resolver.ts'
import type { ServiceFinder } from '../records/service-finder.ts'
import type { Logger } from '../log/logger.ts'

/** Dialling a member and asking it for its services may take this long. */
const ASK_TIMEOUT_MS = 10_000

export class MapError extends UserError {
  override name = 'MapError'
}

export interface MapManagerInit {
  /** `maps.json` in the data directory */
  file: string
  /** the maps as `readRecords` read them at start: the forwards of the maps restore themselves */
  records: MapRecord[]
}

export interface MapManagerComponents {
  forwards: ForwardManager
  finder: ServiceFinder
  resolver: Resolver
  members: MembershipService
  membership: Membership
  peers: PeerTrust
  log: Logger
}

/**
 * `map <name>`: a member gets a stable loopback address (127.77.0.0/16, from its peer id)
 * and each service it lets this node use listens there on the service's own port
 * number, as forwards owned by the map, so `ssh 127.77.x.y` or `curl http://127.77.x.y:8080/`
 * just work, without root. The member itself says which services those are, over the
 * mesh, so a service it does not publish can still be mapped by the nodes it allows.
 */
export class MapManager {
  private readonly file: string
  private readonly components: MapManagerComponents
  private readonly maps = new Map<string, MapRecord>()

  constructor (components: MapManagerComponents, init: MapManagerInit) {
    this.file = init.file
    this.components = components
    for (const record of init.records) this.maps.set(record.name, record)
  }

  static async readRecords (file: string): Promise<MapRecord[]> {
    return readJsonFile<MapRecord[]>(file, [])
  }

  /** Maps a member (again: its services are asked for anew, its address stays). */
  async map (name: string, options: { network?: string } = {}): Promise<MapView> {
    const { forwards, finder, resolver, members, membership, peers } = this.components
    const peerText = peers.resolvePeerLocally(name) ?? await resolver.peerOf(name, options)
    if (peerText == null) throw new MapError(`no member named "${name}" is known here or in the DHT`)
    const peer = peerIdFromString(peerText)
    let usable
    try {
      await members.verify(peer, { signal: AbortSignal.timeout(ASK_TIMEOUT_MS) })
      const network = membership.membershipsOf(peer).find(({ network }) => options.network == null || network.name === options.network)?.network
      if (network == null) throw new MapError(`${name} holds no valid certificate of ${options.network ?? 'a network of this node'}`)
      usable = { network, services: (await finder.usable(peer, network)).usable }
    } catch (err) {
      if (err instanceof MapError) throw err
      throw new MapError(`cannot ask ${name} which of its services this node may use: ${describeError(err)}`)
    }
    const { network, services } = usable
    const previous = this.maps.get(name)
    const address = previous?.peerId === peerText ? previous.address : loopbackAddress(peer, candidate => [...this.maps.values()].some(map => map.address === candidate && map.name !== name))
    await forwards.removeMap(name)
    const record = { name, network: network.name, peerId: peerText, address }
    this.maps.set(name, record)
    await this.save()
    for (const service of services) {
      const target = `${name}/${service.name}`
      const options = { network: network.name, map: name }
      try {
        await forwards.add(`${address}:${service.port}`, target, options)
      } catch (err) {
        if (!(err instanceof ForwardError)) throw err
        // a port below 1024 without the right to bind it, or one taken: another port, reported in `ports`
        const moved = await forwards.add(`${address}:0`, target, options)
        this.components.log.info({ member: name, service: service.name, listen: moved.listen }, `${service.name} cannot listen on its own port ${service.port} (${err.message}): mapped on another`)
      }
    }
    return this.view(record)
  }

  async unmap (name: string): Promise<boolean> {
    if (!this.maps.has(name)) return false
    await this.components.forwards.removeMap(name)
    this.maps.delete(name)
    await this.save()
    return true
  }

  list (): MapView[] {
    return [...this.maps.values()].sort((a, b) => a.name.localeCompare(b.name)).map(record => this.view(record))
  }

  /** `/etc/hosts` lines: `<address> <name>.<network>.mesh`. */
  hosts (): string[] {
    return this.list().map(map => `${map.address} ${map.name}.${map.network}.mesh`)
  }

  private view (record: MapRecord): MapView {
    const owned: ForwardView[] = this.components.forwards.list().filter(forward => forward.map === record.name)
    return {
      ...record,
      ports: owned.map(forward => ({
        service: forward.service,
        port: Number(/:(\d+)$/.exec(forward.listen)?.[1]),
        listen: forward.listen,
        listening: forward.listening
      }))
    }
  }

  private async save (): Promise<void> {
    await writeJsonFile(this.file, [...this.maps.values()])
  }
}
