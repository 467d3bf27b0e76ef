import { peerIdFromString } from '@libp2p/peer-id'
import { SERVICE_NAME_PATTERN } from '../../protocols/envelope/index.ts'
import { GROUP_PATTERN, NAME_PATTERN } from '../../protocols/membership/index.ts'
import { connectTcp } from '../../protocols/tunnel/index.ts'
import { readJsonFile, writeJsonFile } from '../state/json-file.ts'
import { TunnelStats } from '../metrics/tunnel-stats.ts'
import { formatHostPort, parseHostPort } from '../addresses/host-port.ts'
import { SERVICE_PROTOCOLS } from '../control/api.ts'
import { UserError } from '../errors.ts'
import type { AgentInfo } from '../agents/agent-info.ts'
import type { ServiceProtocol, ServiceRecord, ServiceView, TunnelStatsView } from '../control/api.ts'
import type { TunnelObserver } from '../metrics/tunnel-stats.ts'
import type { HostPort } from '../addresses/host-port.ts'

export interface ExposeOptions {
  proto?: string
  allow?: string[]
  networks?: string[]
  proxyProtocol?: boolean
  publish?: boolean
  agent?: AgentInfo
}

/** A service with its parsed address and its counters, as the tunnel handler looks it up. */
export type Service = ServiceRecord & HostPort & { counters: TunnelStats }

export class ExposeError extends UserError {
  override name = 'ExposeError'
}

/** How long `services` waits for a service to accept a connection before calling it down. */
const PROBE_TIMEOUT_MS = 1000

/** The services this node exposes, persisted in `services.json` in the data directory. */
export class ServiceRegistry {
  private readonly file: string
  private readonly services = new Map<string, Service>()
  private readonly observer?: TunnelObserver

  private constructor (file: string, observer?: TunnelObserver) {
    this.file = file
    this.observer = observer
  }

  /** `observer` hears every service's tunnel counters (the metrics). */
  static async load (file: string, observer?: TunnelObserver): Promise<ServiceRegistry> {
    const registry = new ServiceRegistry(file, observer)
    // files written before grants and networks existed lack those keys
    for (const record of await readJsonFile<ServiceRecord[]>(file, [])) registry.set({ ...record, allow: record.allow ?? [], networks: record.networks ?? [], proxyProtocol: record.proxyProtocol ?? false, publish: record.publish ?? false })
    return registry
  }

  lookup (name: string): Service | undefined {
    return this.services.get(name)
  }

  /** Exposes a service, or changes its target, protocol or grants (keeping its counters). */
  async expose (name: string, target: string, options: ExposeOptions = {}): Promise<ServiceView> {
    const proto = options.proto ?? (options.agent != null ? 'http' : 'tcp')
    if (!SERVICE_NAME_PATTERN.test(name)) throw new ExposeError(`service name "${name}": expected letters, digits, dots, dashes or underscores, 1-64 long, starting with a letter or digit`)
    if (!(SERVICE_PROTOCOLS as readonly string[]).includes(proto)) throw new ExposeError(`--proto ${proto}: expected one of ${SERVICE_PROTOCOLS.join(', ')}`)
    if (options.agent != null && proto !== 'http') throw new ExposeError(`--${options.agent.kind} services speak HTTP: --proto ${proto} does not go with it`)
    if (options.agent != null && options.proxyProtocol === true) throw new ExposeError(`--${options.agent.kind} services learn who calls from HTTP headers: --proxy-protocol is for raw TCP services`)
    const allow = options.allow ?? []
    const badAllow = allow.find(entry => !isGrantee(entry))
    if (badAllow != null) throw new ExposeError(`--allow ${badAllow}: expected a peer id, a member name, or @group`)
    const networks = options.networks ?? []
    const badNetwork = networks.find(network => !NAME_PATTERN.test(network))
    if (badNetwork != null) throw new ExposeError(`--network ${badNetwork}: expected a network name (lowercase letters, digits, dashes)`)
    let address
    try {
      address = parseHostPort(target, { checkHost: true })
    } catch (err: any) {
      throw new ExposeError(err.message)
    }
    const service = this.set({
      name,
      target: formatHostPort(address),
      proto: proto as ServiceProtocol,
      allow: [...new Set(allow)],
      networks: [...new Set(networks)],
      proxyProtocol: options.proxyProtocol === true,
      // an agent is exposed to be found
      publish: options.publish === true || options.agent != null,
      ...(options.agent != null && { agent: options.agent })
    })
    await this.save()
    return view(service)
  }

  async unexpose (name: string): Promise<boolean> {
    const removed = this.services.delete(name)
    if (removed) await this.save()
    return removed
  }

  /** What is kept of each service, without probing it. */
  records (): ServiceRecord[] {
    return this.exposed().map(record)
  }

  /** Each service with its parsed address, without probing it. */
  exposed (): Service[] {
    return [...this.services.values()]
  }

  async list (): Promise<ServiceView[]> {
    return Promise.all([...this.services.values()].map(view))
  }

  /** Each service's record and counters, without probing it (the dashboard's view, every second). */
  counters (): Array<ServiceRecord & TunnelStatsView> {
    return this.records().map(record => ({ ...record, ...this.services.get(record.name)?.counters.snapshot() as TunnelStatsView }))
  }

  private set (record: ServiceRecord): Service {
    const { host, port } = parseHostPort(record.target)
    const service = { ...record, host, port, counters: this.services.get(record.name)?.counters ?? new TunnelStats({ service: record.name, direction: 'inbound' }, this.observer) }
    this.services.set(record.name, service)
    return service
  }

  private async save (): Promise<void> {
    await writeJsonFile(this.file, this.records())
  }
}

function record ({ name, target, proto, allow, networks, proxyProtocol, publish, agent }: ServiceRecord): ServiceRecord {
  return { name, target, proto, allow, networks, proxyProtocol, publish, ...(agent != null && { agent }) }
}

/** `@group`, a member name or a peer id. */
function isGrantee (entry: string): boolean {
  if (entry.startsWith('@')) return GROUP_PATTERN.test(entry.slice(1))
  if (NAME_PATTERN.test(entry)) return true
  try {
    peerIdFromString(entry)
    return true
  } catch {
    return false
  }
}

async function view (service: Service): Promise<ServiceView> {
  return {
    ...record(service),
    up: await accepts(service.host, service.port),
    ...service.counters.snapshot()
  }
}

async function accepts (host: string, port: number): Promise<boolean> {
  return connectTcp(host, port, PROBE_TIMEOUT_MS).then(socket => {
    socket.destroy()
    return true
  }, () => false)
}
