/**
 * The NAT lab: network namespaces that make real NATs on one machine.
 *
 *   internet namespace: a bridge, 11.0.0.0/24, standing in for the internet
 *   public site:        one host on the bridge with a public address
 *   cone / symmetric:   a router on the bridge (its public address) that NATs a LAN
 *                       10.<n>.0.0/24 with one host behind it
 *
 * Cone: MASQUERADE (Linux keeps the source port where it can: endpoint-independent
 * mapping) and the router drops unsolicited inbound connections silently. Symmetric:
 * MASQUERADE --random-fully (a new port per destination) and the same drop. The
 * 11.0.0.0/24 addresses exist only inside these namespaces, which have no link to the
 * machine's own network: the lab's traffic never leaves them.
 *
 * Every namespace carries the lab's prefix, and `destroy()` removes them all, whatever
 * state they are in.
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { missingTool } from '../helpers/services/tools.ts'
import type { ChildProcess, SpawnOptions } from 'node:child_process'

export type NatKind = 'public' | 'cone' | 'symmetric'

export interface SiteSpec {
  name: string
  kind: NatKind
}

export interface Site extends SiteSpec {
  /** the namespace the site's host runs in */
  namespace: string
  /** the host's own address (behind the NAT for cone and symmetric sites) */
  address: string
  /** the address the internet sees: the router's for NATed sites */
  publicAddress: string
}

const INTERNET_PREFIX = '11.0.0'

async function sh (command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err != null) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || err.message}`))
      else resolve(stdout)
    })
  })
}

const inNs = async (namespace: string, command: string, ...args: string[]): Promise<string> => sh('ip', ['netns', 'exec', namespace, command, ...args])

/** Why the lab cannot run here, or false when it can. */
export function labMissing (): string | false {
  if (process.getuid?.() !== 0) return 'the NAT lab needs root (network namespaces)'
  return missingTool('ip', 'iproute2') || missingTool('iptables', 'iptables')
}

export class NatLab {
  readonly sites = new Map<string, Site>()
  private readonly prefix: string
  private readonly namespaces: string[] = []
  private readonly children = new Set<ChildProcess>()
  private links = 0

  private constructor (prefix: string) {
    this.prefix = prefix
  }

  /** Builds the internet and the sites; on any failure, removes what it made and rethrows. */
  static async create (specs: SiteSpec[]): Promise<NatLab> {
    const lab = new NatLab(`am${process.pid % 100000}`)
    try {
      await lab.build(specs)
      return lab
    } catch (err) {
      await lab.destroy()
      throw err
    }
  }

  site (name: string): Site {
    const site = this.sites.get(name)
    if (site == null) throw new Error(`no site ${name} in the lab`)
    return site
  }

  /** Runs a command in a site's host namespace; the lab stops it in `destroy()` if it still runs. */
  spawn (site: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.site(site).namespace, command, ...args], options)
    this.children.add(child)
    child.once('exit', () => { this.children.delete(child) })
    return child
  }

  async exec (site: string, command: string, ...args: string[]): Promise<string> {
    return inNs(this.site(site).namespace, command, ...args)
  }

  /**
   * The connection tracking entries of a NATed site's router (its NAT table, in effect),
   * optionally only those of one protocol: evidence of which flows crossed the NAT.
   */
  async routerConntrack (site: string, protocol?: 'tcp' | 'udp'): Promise<string[]> {
    const { kind, namespace } = this.site(site)
    if (kind === 'public') throw new Error(`${site} is a public site: it has no router`)
    const table = await inNs(`${namespace}-r`, 'cat', '/proc/net/nf_conntrack')
    return table.split('\n').filter(line => line !== '' && (protocol == null || line.split(/\s+/)[2] === protocol))
  }

  async destroy (): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL')
    for (const namespace of [...this.namespaces].reverse()) {
      await sh('ip', ['netns', 'del', namespace]).catch(() => {})
    }
    this.namespaces.length = 0
  }

  /**
   * `destroy()` for a process that is exiting (an 'exit' listener, a signal handler),
   * where nothing asynchronous runs any more: SIGKILLs the children by pid and removes
   * the namespaces with blocking calls.
   */
  destroySync (): void {
    for (const child of this.children) {
      if (child.pid != null) try { process.kill(child.pid, 'SIGKILL') } catch {}
    }
    for (const namespace of [...this.namespaces].reverse()) {
      try { execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore', timeout: 10_000 }) } catch {}
    }
    this.namespaces.length = 0
  }

  private async namespace (suffix: string): Promise<string> {
    const name = `${this.prefix}-${suffix}`
    await sh('ip', ['netns', 'del', name]).catch(() => {}) // left by a run that was killed
    await sh('ip', ['netns', 'add', name])
    this.namespaces.push(name)
    await inNs(name, 'ip', 'link', 'set', 'lo', 'up')
    return name
  }

  /** A veth pair from `a` (named `aName` there) to `b` (named `bName`). */
  private async link (a: string, aName: string, b: string, bName: string): Promise<void> {
    const id = `${this.prefix}l${this.links++}`
    await sh('ip', ['link', 'add', `${id}a`, 'type', 'veth', 'peer', 'name', `${id}b`])
    for (const [end, namespace, name] of [[`${id}a`, a, aName], [`${id}b`, b, bName]] as const) {
      await sh('ip', ['link', 'set', end, 'netns', namespace])
      await inNs(namespace, 'ip', 'link', 'set', end, 'name', name)
      await inNs(namespace, 'ip', 'link', 'set', name, 'up')
    }
  }

  private async build (specs: SiteSpec[]): Promise<void> {
    const internet = await this.namespace('inet')
    await inNs(internet, 'ip', 'link', 'add', 'name', 'bridge0', 'type', 'bridge')
    await inNs(internet, 'ip', 'link', 'set', 'bridge0', 'up')
    for (const [index, spec] of specs.entries()) {
      const publicAddress = `${INTERNET_PREFIX}.${index + 10}`
      const host = await this.namespace(spec.name)
      if (spec.kind === 'public') {
        await this.link(internet, `p${index}`, host, 'eth0')
        await inNs(internet, 'ip', 'link', 'set', `p${index}`, 'master', 'bridge0')
        await inNs(host, 'ip', 'addr', 'add', `${publicAddress}/24`, 'dev', 'eth0')
        this.sites.set(spec.name, { ...spec, namespace: host, address: publicAddress, publicAddress })
        continue
      }
      const router = await this.namespace(`${spec.name}-r`)
      const lan = `10.${index + 1}.0`
      await this.link(internet, `p${index}`, router, 'wan')
      await inNs(internet, 'ip', 'link', 'set', `p${index}`, 'master', 'bridge0')
      await inNs(router, 'ip', 'addr', 'add', `${publicAddress}/24`, 'dev', 'wan')
      await this.link(router, 'lan', host, 'eth0')
      await inNs(router, 'ip', 'addr', 'add', `${lan}.1/24`, 'dev', 'lan')
      await inNs(host, 'ip', 'addr', 'add', `${lan}.2/24`, 'dev', 'eth0')
      await inNs(host, 'ip', 'route', 'add', 'default', 'via', `${lan}.1`)
      await inNs(router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1')
      await inNs(router, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', ...(spec.kind === 'symmetric' ? ['--random-fully'] : []))
      // unsolicited inbound connections die silently, as on home routers
      for (const chain of ['INPUT', 'FORWARD']) {
        await inNs(router, 'iptables', '-A', chain, '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP')
      }
      this.sites.set(spec.name, { ...spec, namespace: host, address: `${lan}.2`, publicAddress })
    }
  }
}
