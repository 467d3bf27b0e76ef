import { SERVICE_NAME_PATTERN } from '../../protocols/envelope/index.ts'
import { connectTcp } from '../../protocols/tunnel/index.ts'
import { readJsonFile, writeJsonFile } from '../state/json-file.ts'
import { TunnelStats } from '../tunnel/tunnel-stats.ts'
import { formatHostPort, parseHostPort } from '../tunnel/host-port.ts'
import type { ExposedService } from '../../protocols/tunnel/index.ts'
import type { TunnelStatsView } from '../tunnel/tunnel-stats.ts'

export const SERVICE_PROTOCOLS = ['tcp', 'http', 'grpc', 'ssh'] as const
export type ServiceProtocol = typeof SERVICE_PROTOCOLS[number]

export interface ExposeRecord {
  name: string
  target: string
  proto: ServiceProtocol
}

export interface ServiceView extends TunnelStatsView {
  name: string
  target: string
  proto: ServiceProtocol
  /** a TCP connection to the target succeeds right now */
  up: boolean
}

type Service = ExposeRecord & ExposedService & { counters: TunnelStats }

export class ExposeError extends Error {
  override name = 'ExposeError'
}

/** How long `services` waits for a service to accept a connection before calling it down. */
const PROBE_TIMEOUT_MS = 1000

/** The services this node exposes, persisted in `services.json` in the data directory. */
export class ExposeRegistry {
  private readonly file: string
  private readonly services = new Map<string, Service>()

  private constructor (file: string) {
    this.file = file
  }

  static async load (file: string): Promise<ExposeRegistry> {
    const registry = new ExposeRegistry(file)
    for (const record of await readJsonFile<ExposeRecord[]>(file, [])) registry.set(record)
    return registry
  }

  lookup (name: string): ExposedService | undefined {
    return this.services.get(name)
  }

  /** Exposes a service, or changes its target or protocol (keeping its counters). */
  async expose (name: string, target: string, proto: string = 'tcp'): Promise<ServiceView> {
    if (!SERVICE_NAME_PATTERN.test(name)) throw new ExposeError(`service name "${name}": expected letters, digits, dots, dashes or underscores, 1-64 long, starting with a letter or digit`)
    if (!(SERVICE_PROTOCOLS as readonly string[]).includes(proto)) throw new ExposeError(`--proto ${proto}: expected one of ${SERVICE_PROTOCOLS.join(', ')}`)
    let address
    try {
      address = parseHostPort(target, { checkHost: true })
    } catch (err: any) {
      throw new ExposeError(err.message)
    }
    const service = this.set({ name, target: formatHostPort(address), proto: proto as ServiceProtocol })
    await this.save()
    return view(service)
  }

  async unexpose (name: string): Promise<boolean> {
    const removed = this.services.delete(name)
    if (removed) await this.save()
    return removed
  }

  /** Name, target and protocol of each service, without probing it. */
  records (): ExposeRecord[] {
    return [...this.services.values()].map(({ name, target, proto }) => ({ name, target, proto }))
  }

  async list (): Promise<ServiceView[]> {
    return Promise.all([...this.services.values()].map(view))
  }

  private set (record: ExposeRecord): Service {
    const { host, port } = parseHostPort(record.target)
    const service = { ...record, host, port, counters: this.services.get(record.name)?.counters ?? new TunnelStats() }
    this.services.set(record.name, service)
    return service
  }

  private async save (): Promise<void> {
    await writeJsonFile(this.file, this.records())
  }
}

async function view (service: Service): Promise<ServiceView> {
  return {
    name: service.name,
    target: service.target,
    proto: service.proto,
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
