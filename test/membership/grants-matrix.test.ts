/**
 * Who may use which service, in the style of OpenSSH's regress/forward-control.sh: every
 * kind of client against every kind of grant, each cell Y or N as the rules say, and
 * every N delivers zero connections to the counting server behind the service.
 *
 * Built in the order a user can act: the daemons start (bootstrapped from the admin's
 * node, as `npm start -- --bootstrap` does), their ids are read with `id --json`, then
 * the admin creates the network, invites each node by that id, and each joins with its
 * token. Services, the revocation and the expiry come after.
 *
 * Clients: the admin; a member; a member in the group; a member not in the group (but
 * named in a grant); an expired certificate; a revoked member; an unknown peer; a member
 * of another network (its own admin's); and two hostile in-process nodes speaking the
 * membership protocol: one replays another member's certificate, one presents a
 * certificate of an impostor network with the same name and VNI.
 * Services: no `--allow`, `--allow @ops`, `--allow carol`.
 */
import assert from 'node:assert/strict'
import { createConnection, createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeRequest, ProtocolType, responseDecoder, Status } from '../../protocols/envelope/index.ts'
import { exchangeHello, signCertificate } from '../../protocols/membership/index.ts'
import { TUNNEL_PROTOCOL } from '../../protocols/tunnel/index.ts'
import { readEnvelope } from '../../protocols/tunnel/read-envelope.ts'
import { cliJson, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import type { Certificate } from '../../protocols/membership/index.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'
import type { Server } from 'node:net'
import type { ForwardView, NetworkView } from '../../src/control/api.ts'

const SERVICES = ['open', 'ops', 'named'] as const
type Service = typeof SERVICES[number]
type Row = Record<Service, 'Y' | 'N'>

/** The rules: no --allow admits every member; @ops the members in group ops; carol the member named carol. */
const EXPECTED: Record<string, Row> = {
  'admin': { open: 'Y', ops: 'N', named: 'N' },
  'member': { open: 'Y', ops: 'N', named: 'N' },
  'member in @ops': { open: 'Y', ops: 'Y', named: 'N' },
  'member not in @ops (carol)': { open: 'Y', ops: 'N', named: 'Y' },
  'expired certificate': { open: 'N', ops: 'N', named: 'N' },
  'revoked member': { open: 'N', ops: 'N', named: 'N' },
  'unknown peer': { open: 'N', ops: 'N', named: 'N' },
  'member of another network': { open: 'N', ops: 'N', named: 'N' },
  'replayed certificate': { open: 'N', ops: 'N', named: 'N' },
  'impostor network, same name and VNI': { open: 'N', ops: 'N', named: 'N' }
}

/** The expiring certificate's TTL: long enough to join and be verified, short enough to wait out. */
const SHORT_TTL_SECONDS = 8
const PROBE_TIMEOUT_MS = 8_000

interface CountingServer { server: Server, port: number, connections: number }

/** Accepts connections, counts them, answers `ok` and closes. */
async function countingServer (): Promise<CountingServer> {
  const counting: CountingServer = { server: createServer(), port: 0, connections: 0 }
  counting.server.on('connection', socket => {
    counting.connections++
    socket.on('error', () => {})
    socket.end('ok\n')
  })
  await new Promise<void>(resolve => counting.server.listen(0, '127.0.0.1', resolve))
  counting.port = (counting.server.address() as { port: number }).port
  return counting
}

/** One connection through a forward: Y when the service's `ok` comes back, N when it is closed or reset without it. */
async function probe (port: number): Promise<'Y' | 'N'> {
  return new Promise(resolve => {
    let received = ''
    const socket = createConnection({ port, host: '127.0.0.1' })
    const timer = setTimeout(() => { socket.destroy(); resolve('N') }, PROBE_TIMEOUT_MS)
    socket.on('data', chunk => { received += chunk.toString() })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(received === 'ok\n' ? 'Y' : 'N')
    })
  })
}

describe('grants: who may use which service (a forward-control style matrix)', () => {
  const daemons = new Map<string, TestDaemon>()
  const ids = new Map<string, string>()
  const servers = new Map<Service, CountingServer>()
  const hostile: InProcessNode[] = []
  let srvAddress: string
  let vni: number
  const results = new Map<string, Row>()

  /** the node that takes every client role through the CLI, by row */
  const CLIENTS: Record<string, string> = {
    'admin': 'admin',
    'member': 'dave',
    'member in @ops': 'olga',
    'member not in @ops (carol)': 'carol',
    'expired certificate': 'eve',
    'revoked member': 'rita',
    'unknown peer': 'stranger',
    'member of another network': 'oscar'
  }

  before(async () => {
    for (const service of SERVICES) servers.set(service, await countingServer())
    const admin = await TestDaemon.start()
    daemons.set('admin', admin)
    const adminAddresses = (await admin.id()).addresses
    const others = ['srv', 'dave', 'olga', 'carol', 'eve', 'rita', 'stranger', 'oscar']
    // two at a time: each start is CPU-bound for a second or two on this 2-core machine
    for (let i = 0; i < others.length; i += 2) {
      await Promise.all(others.slice(i, i + 2).map(async name => {
        daemons.set(name, await TestDaemon.start({ bootstrap: adminAddresses }))
      }))
    }
    for (const [name, daemon] of daemons) ids.set(name, (await daemon.id()).peerId)
    srvAddress = (await daemons.get('srv')!.id()).addresses[0] as string

    const network = await cliJson<NetworkView>(admin.dataDir, ['network', 'init', 'fleet'])
    vni = network.vni
    const invites: Array<[string, string[]]> = [
      ['srv', []], ['dave', []], ['olga', ['--groups', 'ops']], ['carol', ['--groups', 'dev']],
      ['eve', ['--ttl', `${SHORT_TTL_SECONDS}s`]], ['rita', ['--groups', 'ops']]
    ]
    let eveExpires = 0
    for (const [name, extra] of invites) {
      const token = (await agentmesh(admin, ['invite', ids.get(name)!, '--name', name, ...extra])).trim()
      if (name === 'eve') eveExpires = Date.now() + SHORT_TTL_SECONDS * 1000
      await agentmesh(daemons.get(name)!, ['join', token])
    }
    await agentmesh(daemons.get('oscar')!, ['network', 'init', 'other'])

    const srv = daemons.get('srv')!
    await agentmesh(srv, ['expose', 'open', `127.0.0.1:${servers.get('open')!.port}`])
    await agentmesh(srv, ['expose', 'ops', `127.0.0.1:${servers.get('ops')!.port}`, '--allow', '@ops'])
    await agentmesh(srv, ['expose', 'named', `127.0.0.1:${servers.get('named')!.port}`, '--allow', 'carol'])

    // `expose` answers whether the service is up with a connection of its own: count from here
    for (const counting of servers.values()) counting.connections = 0

    await agentmesh(admin, ['revoke', 'rita'])
    await waitFor('srv to hold the revocation list', async () =>
      (await cliJson<NetworkView[]>(srv.dataDir, ['network', 'ls']))[0]?.revocationsVersion === 1, 10_000)
    // the expiry is strict: nothing is granted past notAfter
    await sleep(Math.max(0, eveExpires - Date.now() + 1500))
  })

  after(async () => {
    for (const node of hostile) await node.stop()
    await Promise.all([...daemons.values()].map(async daemon => daemon.destroy()))
    for (const { server } of servers.values()) server.close()
  })

  it('gives each CLI client the cells the rules say, through its own forwards', async () => {
    const srvId = ids.get('srv')!
    for (const [row, name] of Object.entries(CLIENTS)) {
      const daemon = daemons.get(name)!
      const cells = {} as Row
      for (const service of SERVICES) {
        const { listen } = await cliJson<ForwardView>(daemon.dataDir, ['forward', '0', `${srvId}/${service}`])
        cells[service] = await probe(Number(/:(\d+)$/.exec(listen)?.[1]))
      }
      results.set(row, cells)
    }
  })

  it('refuses a certificate replayed by another peer, and one of an impostor network with the same name and VNI', async () => {
    const replayer = await startInProcessNode(() => false)
    hostile.push(replayer)
    // a member shows its certificate to whoever says hello: the replayer learns olga's as anyone could
    const olgaAddress = (await daemons.get('olga')!.id()).addresses[0] as string
    const told = await exchangeHello(await replayer.node.dial(multiaddr(olgaAddress)), { type: 'hello', certificates: [], revocations: [] })
    assert.equal(told.type, 'hello')
    const olgaCertificate = (told as { certificates: Certificate[] }).certificates[0] as Certificate
    results.set('replayed certificate', await hostileRow(replayer, olgaCertificate))

    const impostor = await startInProcessNode(() => false)
    hostile.push(impostor)
    const impostorKey = await generateKeyPair('Ed25519')
    const now = Math.floor(Date.now() / 1000)
    const forged = await signCertificate({
      networkName: 'fleet', networkKey: impostorKey.publicKey.raw, vni, peerId: impostor.node.peerId, name: 'olga',
      groups: ['ops'], role: 'admin', notBefore: now, notAfter: now + 3600, serial: 1n
    }, impostorKey)
    results.set('impostor network, same name and VNI', await hostileRow(impostor, forged))
  })

  /** A hello with `certificate`, then one tunnel request per service: Y only for an OK answer. */
  async function hostileRow (attacker: InProcessNode, certificate: Certificate): Promise<Row> {
    const connection = await attacker.node.dial(multiaddr(srvAddress))
    const answer = await exchangeHello(connection, { type: 'hello', certificates: [certificate], revocations: [] })
    assert.equal(answer.type, 'hello', 'srv answers the hello (and judges the certificate on its own)')
    const cells = {} as Row
    for (const service of SERVICES) {
      const stream = await connection.newStream(TUNNEL_PROTOCOL)
      try {
        // srv resets the stream of a peer it does not trust: the send may already fail
        stream.send(encodeRequest({ service, vni, protocolType: ProtocolType.TCP }))
        const { envelope } = await readEnvelope(stream, responseDecoder(), PROBE_TIMEOUT_MS)
        cells[service] = envelope.status === Status.OK ? 'Y' : 'N'
      } catch {
        cells[service] = 'N'
      } finally {
        stream.abort(new Error('done'))
      }
    }
    return cells
  }

  it('matches the rules in every cell, and every N delivered nothing to the service', () => {
    const table = ['client'.padEnd(38) + SERVICES.map(service => service.padEnd(7)).join('')]
    for (const row of Object.keys(EXPECTED)) {
      const cells = results.get(row)
      table.push(row.padEnd(38) + SERVICES.map(service => (cells?.[service] ?? '?').padEnd(7)).join(''))
    }
    process.stdout.write(`# grants matrix (Y: the service answered; N: refused)\n${table.map(line => `# ${line}`).join('\n')}\n`)
    assert.deepEqual(Object.fromEntries(results), EXPECTED)
    for (const service of SERVICES) {
      const allowed = Object.values(EXPECTED).filter(row => row[service] === 'Y').length
      assert.equal(servers.get(service)!.connections, allowed, `${service}: one connection per Y, none for the N cells`)
    }
  })

  it('counts each refusal at the forward under its kind', async () => {
    const kinds = async (name: string): Promise<Record<string, number>> => {
      const views = await cliJson<ForwardView[]>(daemons.get(name)!.dataDir, ['forwards'])
      const total: Record<string, number> = {}
      for (const view of views) for (const [kind, count] of Object.entries(view.failures)) total[kind] = (total[kind] ?? 0) + count
      return total
    }
    assert.deepEqual(await kinds('dave'), { denied: 2 }, 'a member refused by --allow: DENIED from the service node')
    assert.deepEqual(await kinds('oscar'), { denied: 3 }, 'srv is no member of oscar\'s network: refused locally, no stream opened')
    assert.deepEqual(await kinds('stranger'), { denied: 3 }, 'an unknown peer trusts no one: refused locally')
  })
})
