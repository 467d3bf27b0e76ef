/**
 * An agentmesh mesh inside the NAT lab (lab.ts): relay daemons (`--relay`) on public
 * sites, one daemon per other site bootstrapped from the relays, and at each of those
 * sites a real HTTP server (fixtures/bytes-server.ts) exposed as `web`. Clients are real
 * `curl` processes run in the forwarding site's namespace.
 *
 * Every daemon runs inside its site's namespace (`ip netns exec`); the control socket is
 * a file in its data directory, so the CLI and the control API reach it from here. Each
 * daemon logs JSON lines (`--log-format json`, stdout and stderr) to `daemon.log` beside
 * its data directory; `explain()` and `withLogs()` put the tail of the logs of the
 * daemons involved into a failure message, and `destroy()` keeps the whole directory
 * (and says where) when something failed.
 *
 * Trust is built in the order a user can follow (README, "Behind NAT"): each daemon
 * makes its own identity on its first start, and its peer id (and, for a relay, the
 * address to bootstrap from) is learnt from `id --json` once it runs. So the relays start
 * first, with no trust; then the sites start with `--bootstrap` to them; then the sites
 * trust each other, and only once the NATed sites hold their first reservations (on a
 * relay that lets untrusted peers reserve) does each relay get `trust add` for the sites
 * it trusts (`relayTrusts`, default all). A relay that a test brings up later
 * (`deferredRelays`) is started once before the sites, for its id and address, and
 * stopped; its data directory keeps the identity for its later starts, each of which is
 * checked against the id learnt first, and followed by its trust of the sites.
 * `nodesTrustEachOther: false` and `relayTrusts: []` leave trust to the test
 * (membership, or a relay trusted later still).
 *
 * Sites do not trust the relays: nothing is tunnelled to or from a relay.
 *
 * The tests drive the daemons the way a user would: the CLI for `id --json`, `forwards
 * --json` and the like, and the control API (which the CLI is a thin client of, printing
 * the same JSON) for setup and for polling `status` and `peers` every 250 ms, where a CLI
 * process per call would cost more CPU than this 2-core machine can spare.
 *
 * Bounds: every wait has a deadline; every process started here is stopped by pid, and
 * `destroy()` removes the namespaces whatever happened (a SIGINT/SIGTERM or an exit
 * before it does the same synchronously).
 *
 * Knobs for debugging (environment of the test process):
 *   NATLAB_DEBUG=<pattern>   DEBUG for the daemons (libp2p's debug logs land in daemon.log),
 *                            e.g. 'libp2p:connection-manager:dial-queue*,libp2p:webrtc*'
 *   NATLAB_LOG_LEVEL=<level> the daemons' --log-level (default info)
 *   NATLAB_KEEP=1            keep the logs even when everything passed
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveDataDir } from '../../src/config/data-dir.ts'
import { ControlClient } from '../../src/control/client.ts'
import { cli, waitFor } from '../helpers/daemon.ts'
import { deterministicSha256, MiB } from '../helpers/services/data.ts'
import { run } from '../helpers/services/process.ts'
import { siteSeed } from './fixtures/bytes-server.ts'
import { NatLab } from './lab.ts'
import type { ForwardView, IdView, PeerView, StatusView } from '../../src/control/api.ts'
import type { CliResult } from '../helpers/daemon.ts'
import type { Site, SiteSpec } from './lab.ts'
import type { ChildProcess } from 'node:child_process'

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'agentmesh.js')
const BYTES_SERVER = join(import.meta.dirname, 'fixtures', 'bytes-server.ts')

/** Every daemon listens on this TCP port (and a relay answers STUN on the same UDP port). */
export const MESH_PORT = 4733
/** Each site's HTTP server, on 127.0.0.1 in its own namespace. */
export const SERVICE_PORT = 8080
/** The name each site exposes its HTTP server under. */
export const SERVICE = 'web'

/** spawn to a control API that answers; generous, since the lab starts several daemons on a small machine */
const START_TIMEOUT_MS = 45_000
/** daemons started at once: each start is CPU-bound for a second or two */
const START_CONCURRENCY = 2
const STOP_TIMEOUT_MS = 5_000
/** how long the NATed nodes get for their first (untrusted) reservation before the relays trust them */
const RESERVATION_BEFORE_TRUST_MS = 20_000


export type Role = 'relay' | 'node'

/** One daemon of the lab: its site, its data directory and log, and the process while it runs. */
export class LabDaemon {
  readonly name: string
  readonly role: Role
  readonly site: Site
  readonly dir: string
  readonly dataDir: string
  readonly logFile: string
  /** the control API, which the CLI is a thin client of: cheap enough to poll */
  readonly api: ControlClient
  /** Date.now() at the latest spawn */
  startedAt = 0
  /** `start` arguments after `--data-dir DIR` */
  args: string[] = []
  env: NodeJS.ProcessEnv = {}
  private child?: ChildProcess
  private exited: Promise<void> = Promise.resolve()
  /** what `id --json` said after the first start: the identity the daemon made for itself */
  private id?: { peerId: string, addresses: string[] }

  constructor (name: string, role: Role, site: Site, dir: string) {
    this.name = name
    this.role = role
    this.site = site
    this.dir = dir
    this.dataDir = join(dir, 'data')
    this.logFile = join(dir, 'daemon.log')
    this.api = new ControlClient(resolveDataDir(this.dataDir, {}))
  }

  /** The peer id `id --json` gave after the first start; a daemon that never ran has none yet. */
  get peerId (): string {
    if (this.id == null) throw new Error(`${this.name} has no peer id yet: it makes its identity on its first start (read with id --json)`)
    return this.id.peerId
  }

  /**
   * `/ip4/<site address>/tcp/4733/p2p/<peer id>` as `id --json` listed it after the first
   * start (a public daemon announces that address: see `--announce`): how the others
   * bootstrap from it.
   */
  get bootstrapAddress (): string {
    const wanted = `/ip4/${this.site.address}/tcp/${MESH_PORT}/p2p/${this.peerId}`
    const address = this.id?.addresses.find(address => address === wanted)
    if (address == null) throw new Error(`${this.name}: id --json lists no ${wanted} (it lists ${JSON.stringify(this.id?.addresses)})`)
    return address
  }

  /**
   * Reads `id --json` (the CLI, as a user would) after a start: the first time, it is how
   * the lab learns the identity the daemon made for itself; after a restart on the same
   * data directory it must name the same peer id. A public daemon's site address is waited
   * for (bounded), since the others bootstrap from it.
   */
  async learnIdentity (): Promise<{ peerId: string, addresses: string[] }> {
    const wanted = (peerId: string): string => `/ip4/${this.site.address}/tcp/${MESH_PORT}/p2p/${peerId}`
    const id = await waitFor(`${this.name}'s id --json${this.site.kind === 'public' ? ` to list /ip4/${this.site.address}/tcp/${MESH_PORT}` : ''}`, async () => {
      const id = await this.cliJson<IdView>(['id'])
      return this.site.kind !== 'public' || id.addresses.includes(wanted(id.peerId)) ? id : undefined
    }, 10_000, 250)
    if (this.id != null && this.id.peerId !== id.peerId) throw new Error(`${this.name}: id --json says ${id.peerId} after a restart on the same data directory, ${this.id.peerId} before`)
    this.id = id
    return id
  }

  get running (): boolean {
    return this.child != null && this.child.exitCode == null && this.child.signalCode == null
  }

  get pid (): number | undefined {
    return this.child?.pid
  }

  /** Spawns the daemon in its namespace (same data dir, so the same identity) and waits until its control API answers. */
  async start (lab: NatLab): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`)
    const log = openSync(this.logFile, 'a')
    let child: ChildProcess
    try {
      writeSync(log, `=== natlab: ${new Date().toISOString()} start ${this.name}: agentmesh start --data-dir ${this.dataDir} ${this.args.join(' ')}\n`)
      this.startedAt = Date.now()
      child = lab.spawn(this.site.name, process.execPath, [CLI, 'start', '--data-dir', this.dataDir, ...this.args], {
        stdio: ['ignore', log, log],
        env: { ...process.env, ...this.env }
      })
    } finally {
      closeSync(log)
    }
    this.child = child
    this.exited = new Promise(resolve => {
      if (child.exitCode != null || child.signalCode != null) resolve()
      else child.once('exit', () => { resolve() })
    })
    try {
      await waitFor(`${this.name}'s control API`, async () => {
        if (!this.running) throw new Error(`${this.name} exited (${child.exitCode ?? child.signalCode})`)
        return this.api.id()
      }, START_TIMEOUT_MS, 100)
    } catch (err: any) {
      await this.stop('SIGKILL')
      throw new Error(`${this.name} did not start: ${err.message}\n${this.tail(30)}`)
    }
  }

  /** Sends `signal` to the daemon's pid and waits (bounded) for it to exit, SIGKILLing it past the bound. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const pid = this.child?.pid
    if (pid == null || !this.running) return
    try { process.kill(pid, signal) } catch {}
    const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL') } catch {} }, STOP_TIMEOUT_MS)
    try {
      await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** `agentmesh <args> --data-dir <its dir>`, run from the root namespace like a user's shell. */
  async cli (args: string[]): Promise<CliResult> {
    return cli([...args, '--data-dir', this.dataDir])
  }

  async cliJson<T> (args: string[]): Promise<T> {
    const result = await this.cli([...args, '--json'])
    if (result.code !== 0) throw new Error(`agentmesh ${args.join(' ')} on ${this.name} exited ${result.code}: ${result.stderr.trim()}`)
    return JSON.parse(result.stdout) as T
  }

  async status (): Promise<StatusView> {
    return this.api.status()
  }

  async peers (): Promise<PeerView[]> {
    return this.api.peers()
  }

  async forwards (): Promise<ForwardView[]> {
    return this.api.forwards()
  }

  /** The last `lines` lines of its log, JSON lines made readable, runs of the same line folded into one. */
  tail (lines = 25): string {
    if (!existsSync(this.logFile)) return `--- ${this.name}: no log yet`
    const all = readFileSync(this.logFile, 'utf8').trimEnd().split('\n')
    const shown = foldRepeats(all.map(formatLogLine)).slice(-lines)
    return [`--- ${this.name} (${this.role}, ${this.site.kind}, ${this.id?.peerId ?? 'no id yet'}): last ${shown.length} entries of ${all.length} lines of ${this.logFile}`, ...shown].join('\n')
  }
}

interface LogLine {
  /** HH:MM:SS.mmm, or '' for lines that are not pino's */
  when: string
  text: string
}

/** A pino JSON line as `level msg {other fields}` with its time apart; any other line as it is. */
function formatLogLine (line: string): LogLine {
  if (!line.startsWith('{')) return { when: '', text: line }
  try {
    const { time, level, msg, ...rest } = JSON.parse(line)
    const when = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '?'
    const extra = Object.keys(rest).length === 0 ? '' : ` ${JSON.stringify(rest)}`
    return { when, text: `${String(level).padEnd(5)} ${msg ?? ''}${extra}`.slice(0, 2_000) }
  } catch {
    return { when: '', text: line }
  }
}

/** Consecutive lines with the same text become one: `first time-last time (xN)`. */
function foldRepeats (lines: LogLine[]): string[] {
  const out: Array<{ first: string, last: string, text: string, count: number }> = []
  for (const line of lines) {
    const previous = out.at(-1)
    if (previous != null && previous.text === line.text) {
      previous.last = line.when
      previous.count++
    } else {
      out.push({ first: line.when, last: line.when, text: line.text, count: 1 })
    }
  }
  return out.map(({ first, last, text, count }) => count === 1 ? `  ${first} ${text}` : `  ${first}..${last} ${text} (x${count})`)
}

export interface MeshLabOptions {
  /** the lab's sites, relay sites included */
  sites: SiteSpec[]
  /** public sites that run a relay daemon (`start --relay`) */
  relays: string[]
  /** sites that run a daemon and an HTTP server; they bootstrap from every relay */
  nodes: string[]
  /**
   * relays that `create` leaves stopped (a test brings them up): each is started once
   * before the sites, for the id and address in the sites' bootstrap lists, and stopped
   */
  deferredRelays?: string[]
  /** the nodes the relays trust (default: all), with `trust add` on each relay after the nodes started: the others get the untrusted limits */
  relayTrusts?: string[]
  /**
   * when the relays get their `trust add`: once every NATed node holds a reservation
   * ('reservations', the default: the reservations were made untrusted, as when a user
   * trusts nodes after they joined), or as soon as the nodes have started ('start': for a
   * relay that denies untrusted peers a reservation)
   */
  relayTrustAfter?: 'reservations' | 'start'
  /** whether the nodes trust each other (`trust add` on each, after all have started; default true) */
  nodesTrustEachOther?: boolean
  /** more environment for the relay daemons, e.g. AGENTMESH_RELAY_UNTRUSTED */
  relayEnv?: NodeJS.ProcessEnv
}

/** One curl through a forward: what arrived, and whether it is the expected body. */
export interface Transfer {
  ok: boolean
  /** curl's exit code (or signal) */
  exit: number | string | null
  bytes: number
  expectedBytes: number
  sha256?: string
  expectedSha256: string
  ms: number
  /** MiB/s of the bytes that arrived, over the whole curl run */
  mibPerSecond: number
  stderr: string
}

export interface CurlOptions {
  seed: string
  /** curl --max-time, seconds */
  maxTimeSeconds?: number
  /** the server sends at this many bytes per second (fixtures/bytes-server.ts) */
  rate?: number
}

export class MeshLab {
  readonly lab: NatLab
  readonly dir: string
  readonly daemons = new Map<string, LabDaemon>()
  readonly relays: string[]
  readonly nodes: string[]
  readonly relayTrusts: string[]
  /** Date.now() when the lab gave the relays their `trust add` of `relayTrusts` (0 before; set even when that list is empty) */
  relayTrustedAt = 0
  /** per NATed node, whether `status` listed a relay reservation before the relays trusted it */
  readonly reservedBeforeRelayTrust = new Map<string, boolean>()
  /** set once a failure was explained: `destroy()` then keeps the logs */
  failed = false
  private readonly services = new Map<string, ChildProcess>()

  /** the last resort if the test process is interrupted before `destroy()`: kill by pid, remove the namespaces */
  private readonly emergency = (signal?: NodeJS.Signals | number): void => {
    for (const daemon of this.daemons.values()) {
      if (daemon.running && daemon.pid != null) try { process.kill(daemon.pid, 'SIGKILL') } catch {}
    }
    this.lab.destroySync()
    if (typeof signal === 'string') process.exit(1)
  }

  private constructor (lab: NatLab, dir: string, options: MeshLabOptions) {
    this.lab = lab
    this.dir = dir
    this.relays = options.relays
    this.nodes = options.nodes
    this.relayTrusts = options.relayTrusts ?? options.nodes
    process.once('exit', this.emergency)
    process.once('SIGINT', this.emergency)
    process.once('SIGTERM', this.emergency)
  }

  /** Builds the lab, starts the relays, the services and the site daemons, and wires trust and exposes; undoes it all on failure. */
  static async create (options: MeshLabOptions): Promise<MeshLab> {
    const lab = await NatLab.create(options.sites)
    const mesh = new MeshLab(lab, await mkdtemp(join(tmpdir(), 'agentmesh-natlab-')), options)
    try {
      await mesh.setUp(options)
      return mesh
    } catch (err) {
      mesh.failed = true
      await mesh.destroy()
      throw err
    }
  }

  daemon (name: string): LabDaemon {
    const daemon = this.daemons.get(name)
    if (daemon == null) throw new Error(`no daemon ${name} in the lab`)
    return daemon
  }

  private async setUp (options: MeshLabOptions): Promise<void> {
    for (const name of options.relays) {
      if (this.lab.site(name).kind !== 'public') throw new Error(`relay ${name} must be on a public site`)
    }
    for (const [name, role] of [...options.relays.map(name => [name, 'relay'] as const), ...options.nodes.map(name => [name, 'node'] as const)]) {
      const dir = join(this.dir, name)
      // an empty data directory: the daemon makes its identity on its first start
      await mkdir(join(dir, 'data'), { recursive: true, mode: 0o700 })
      this.daemons.set(name, new LabDaemon(name, role, this.lab.site(name), dir))
    }
    const logLevel = process.env.NATLAB_LOG_LEVEL ?? 'info'
    const env: NodeJS.ProcessEnv = process.env.NATLAB_DEBUG == null ? {} : { DEBUG: process.env.NATLAB_DEBUG }
    const nodes = options.nodes.map(name => this.daemon(name))
    const relays = options.relays.map(name => this.daemon(name))
    // a server on a public address says so, as in the README: libp2p advertises an address
    // that autonat has not yet confirmed only when it is announced
    const announce = (daemon: LabDaemon): string[] => daemon.site.kind === 'public' ? ['--announce', `/ip4/${daemon.site.address}/tcp/${MESH_PORT}`] : []
    for (const relay of relays) {
      relay.args = ['--listen', `/ip4/0.0.0.0/tcp/${MESH_PORT}`, ...announce(relay), '--name', relay.name, '--log-format', 'json', '--log-level', logLevel, '--relay']
      relay.env = { ...env, ...options.relayEnv }
    }
    // 1. the relays start, with no trust; their ids and addresses come from id --json
    const deferred = new Set(options.deferredRelays ?? [])
    await Promise.all(relays.map(async relay => {
      await this.startRelay(relay.name)
      if (deferred.has(relay.name)) await relay.stop()
    }))
    // 2. the sites start, bootstrapped from the relays, and say who they are
    for (const node of nodes) {
      node.args = ['--listen', `/ip4/0.0.0.0/tcp/${MESH_PORT}`, ...announce(node), '--name', node.name, '--log-format', 'json', '--log-level', logLevel, ...relays.flatMap(relay => ['--bootstrap', relay.bootstrapAddress])]
      node.env = env
    }
    await Promise.all(options.nodes.map(async name => this.startService(name)))
    await inBatches(nodes, START_CONCURRENCY, async node => {
      await node.start(this.lab)
      await node.learnIdentity()
    })
    // 3. now that every id is known: the sites trust each other and expose their service
    await Promise.all(nodes.map(async node => {
      if (options.nodesTrustEachOther !== false) {
        for (const other of nodes) {
          if (other !== node) await node.api.trust({ peerId: other.peerId, name: other.name })
        }
      }
      await node.api.expose({ name: SERVICE, target: `127.0.0.1:${SERVICE_PORT}`, proto: 'http' })
    }))
    // 4. the relays trust the sites, after the NATed ones reserved (untrusted) where they can
    const nated = nodes.filter(node => node.site.kind !== 'public').map(node => node.name)
    if ((options.relayTrustAfter ?? 'reservations') === 'reservations' && this.relayTrusts.length > 0) {
      const reserved = await this.waitForRelays(nated, 1, RESERVATION_BEFORE_TRUST_MS)
      for (const [name, seconds] of reserved) this.reservedBeforeRelayTrust.set(name, seconds != null)
    }
    this.relayTrustedAt = Date.now()
    await Promise.all(relays.filter(relay => relay.running).map(async relay => this.trustOnRelay(relay.name)))
  }

  /**
   * Starts (or restarts) a relay and learns (or checks) its identity from `id --json`;
   * once the lab has given the relays their trust, a relay started later gets it too
   * (its data directory keeps it across restarts).
   */
  async startRelay (name: string): Promise<void> {
    const relay = this.daemon(name)
    await relay.start(this.lab)
    await relay.learnIdentity()
    if (this.relayTrustedAt !== 0) await this.trustOnRelay(name)
  }

  /** `trust add` on a running relay for each of `nodes` (default: `relayTrusts`) that it does not trust yet. */
  async trustOnRelay (name: string, nodes: string[] = this.relayTrusts): Promise<void> {
    const relay = this.daemon(name)
    const trusted = new Set((await relay.api.trusted()).map(entry => entry.peerId))
    for (const node of nodes) {
      const { peerId } = this.daemon(node)
      if (!trusted.has(peerId)) await relay.api.trust({ peerId, name: node })
    }
  }

  /** The HTTP server of a site, in its namespace, on 127.0.0.1:8080. */
  private async startService (site: string): Promise<void> {
    const child = this.lab.spawn(site, process.execPath, [BYTES_SERVER, '--site', site, '--port', String(SERVICE_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.services.set(site, child)
    let out = ''
    child.stdout?.on('data', chunk => { out += chunk })
    child.stderr?.on('data', chunk => { out += chunk })
    await waitFor(`the HTTP server of ${site}`, async () => {
      if (child.exitCode != null) throw new Error(`exited ${child.exitCode}: ${out}`)
      return out.includes('listening ')
    }, 10_000, 50)
  }

  /** Stops a daemon by pid (SIGKILL by default: a crash) and starts it again on the same data directory: same identity, same address, same state. */
  async restart (name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const daemon = this.daemon(name)
    await daemon.stop(signal)
    if (daemon.role === 'relay') {
      await this.startRelay(name)
    } else {
      await daemon.start(this.lab)
      await daemon.learnIdentity()
    }
  }

  /** A forward on `src` from 127.0.0.1:`port` (in src's namespace) to `dst`'s HTTP service. */
  async forward (src: string, dst: string, port: number): Promise<ForwardView> {
    return this.daemon(src).api.forward({ listen: `127.0.0.1:${port}`, target: `${this.daemon(dst).peerId}/${SERVICE}` })
  }

  /** What `peers --json` on `src` says of `dst` (connection null when it does not know it). */
  async path (src: string, dst: string): Promise<{ connection: PeerView['connection'], transport?: string }> {
    const view = (await this.daemon(src).peers()).find(peer => peer.peerId === this.daemon(dst).peerId)
    return { connection: view?.connection ?? null, transport: view?.transport }
  }

  /**
   * `curl` in `src`'s namespace through its forward on `port` to `dst`'s service, `size`
   * bytes, hashed as they arrive and compared with the body `dst` must have sent.
   */
  async curl (src: string, dst: string, port: number, size: number, options: CurlOptions): Promise<Transfer> {
    const maxTime = options.maxTimeSeconds ?? 30
    const args = [
      'netns', 'exec', this.lab.site(src).namespace,
      'curl', '--silent', '--show-error', '--fail', '--noproxy', '*', '--max-time', String(maxTime),
      `http://127.0.0.1:${port}/bytes/${size}?seed=${encodeURIComponent(options.seed)}${options.rate == null ? '' : `&rate=${options.rate}`}`
    ]
    const expectedSha256 = deterministicSha256(siteSeed(dst, options.seed), size)
    const result = await run('ip', args, { timeoutMs: (maxTime + 5) * 1000, digestStdout: true })
    const bytes = result.digest?.bytes ?? 0
    return {
      ok: result.code === 0 && bytes === size && result.digest?.sha256 === expectedSha256,
      exit: result.code ?? result.signal,
      bytes,
      expectedBytes: size,
      sha256: result.digest?.sha256,
      expectedSha256,
      ms: result.ms,
      mibPerSecond: bytes / MiB / Math.max(result.ms / 1000, 0.001),
      stderr: result.stderr.trim()
    }
  }

  /**
   * Polls `status` of each named daemon until its `relays` (the relays holding a
   * reservation for it) has at least `count` entries, for at most `timeoutMs`; gives, per
   * daemon, the seconds from `since` (default: the daemon's latest start) to the first
   * time it had, or null.
   */
  async waitForRelays (names: string[], count: number, timeoutMs: number, since?: number): Promise<Map<string, number | null>> {
    const deadline = Date.now() + timeoutMs
    const seconds = new Map<string, number | null>(names.map(name => [name, null]))
    while (Date.now() < deadline && [...seconds.values()].some(value => value == null)) {
      await Promise.all(names.filter(name => seconds.get(name) == null).map(async name => {
        const daemon = this.daemon(name)
        const relays = (await daemon.status().catch(() => undefined))?.relays
        if (relays != null && relays.length >= count) seconds.set(name, (Date.now() - (since ?? daemon.startedAt)) / 1000)
      }))
      await sleep(250)
    }
    return seconds
  }

  /** The tails of the logs of `names` (default: all daemons); marks the run as failed, so that `destroy` keeps the logs. */
  explain (names: string[] = [...this.daemons.keys()], lines = 25): string {
    this.failed = true
    return [...new Set(names)].map(name => this.daemon(name).tail(lines)).join('\n')
  }

  /** Runs `check`; if it throws, rethrows with the tails of the logs of `names` appended. */
  async withLogs<T> (names: string[], check: () => T | Promise<T>, lines = 25): Promise<T> {
    try {
      return await check()
    } catch (err: any) {
      const wrapped = new Error(`${err.message}\n${this.explain(names, lines)}\n(all logs: ${this.dir})`)
      wrapped.name = err.name ?? 'Error'
      throw wrapped
    }
  }

  /** Stops every daemon and service by pid, removes the namespaces, and removes the logs unless something failed (or NATLAB_KEEP is set). */
  async destroy (): Promise<void> {
    try {
      await Promise.all([...this.daemons.values()].map(async daemon => daemon.stop()))
      for (const child of this.services.values()) {
        if (child.pid != null && child.exitCode == null && child.signalCode == null) try { process.kill(child.pid, 'SIGKILL') } catch {}
      }
    } finally {
      await this.lab.destroy()
      for (const event of ['exit', 'SIGINT', 'SIGTERM'] as const) process.off(event, this.emergency)
      if (this.failed || process.env.NATLAB_KEEP != null) console.log(`# natlab: logs kept in ${this.dir}`)
      else await rm(this.dir, { recursive: true, force: true })
    }
  }
}

/** Runs `action` on every item, at most `size` at a time. */
async function inBatches<T> (items: T[], size: number, action: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(Array.from({ length: Math.min(size, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await action(item)
  }))
}

/** `12.3 MiB/s` */
export function rate (mibPerSecond: number): string {
  return `${mibPerSecond.toFixed(1)} MiB/s`
}
