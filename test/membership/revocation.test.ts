/**
 * Revocation and renewal as users drive them, through the CLI, with real daemons:
 *
 * - renew: a member of group ops loses an `--allow @ops` service when the admin
 *   renews it with `--groups dev` while it is connected (the new certificate is
 *   delivered, no re-join), and its old certificate, shown again by the holder of its
 *   key, opens nothing;
 * - online: `revoke m1` cuts m1's open tunnel to m2 within 10 s, and m1 gets no new
 *   one; the service sees no connection after the cut;
 * - offline: m2 is stopped when m3 is revoked, and holds the new list within 10 s of
 *   coming back (same data directory and address), refusing m3.
 *
 * Built in the order a user can act: the daemons start, their ids are read with
 * `id --json`, then `network init`, `invite`, `join`.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { encodeRequest, ProtocolType, responseDecoder, Status } from '../../protocols/envelope/index.ts'
import { decodeCertificate, exchangeHello } from '../../protocols/membership/index.ts'
import { TUNNEL_PROTOCOL } from '../../protocols/tunnel/index.ts'
import { readEnvelope } from '../../protocols/tunnel/read-envelope.ts'
import { cliJson, freePort, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { echoProbe, enrol, forwardFailures, forwardTo, networksOf, peersOf, startTwin, waitForRevocations } from '../helpers/membership.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import { closing, connectTcp, startEchoServer } from '../helpers/services/tcp.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { RenewedView, RevokedView } from '../../src/control/api.ts'

/** Sockets open at a TCP service right now. */
async function serviceSockets (service: TcpService): Promise<number> {
  return new Promise(resolve => service.server.getConnections((_err, count) => resolve(count)))
}

/** issue 12: within 10 s, members close the revoked peer's tunnels and refuse it; an offline member gets the list within 10 s of its return */
const ENFORCEMENT_MS = 10_000
const ATTEMPTS = 3

describe('revocation and renewal, through the CLI', () => {
  let admin: TestDaemon, m1: TestDaemon, m2: TestDaemon, m3: TestDaemon
  const ids: Record<string, string> = {}
  let m2Listen: string
  /** open to every member */
  let echo: TcpService
  /** `--allow @ops` */
  let ops: TcpService
  const twins: InProcessNode[] = []

  before(async () => {
    echo = await startEchoServer()
    ops = await startEchoServer()
    admin = await TestDaemon.start()
    const adminAddresses = (await admin.id()).addresses
    // m2 keeps its address across its restart, as a host with a configured port does
    m2Listen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    ;[m1, m2] = await Promise.all([
      TestDaemon.start({ bootstrap: adminAddresses }),
      TestDaemon.start({ bootstrap: adminAddresses, listen: [m2Listen] })
    ])
    m3 = await TestDaemon.start({ bootstrap: adminAddresses })
    for (const [name, daemon] of Object.entries({ admin, m1, m2, m3 })) ids[name] = (await daemon.id()).peerId
    await agentmesh(admin, ['network', 'init', 'fleet'])
    await enrol(admin, m1, 'm1')
    await enrol(admin, m2, 'm2')
    await enrol(admin, m3, 'm3', ['--groups', 'ops'])
    await agentmesh(m2, ['expose', 'echo', echo.target])
    await agentmesh(m2, ['expose', 'ops', ops.target, '--allow', '@ops'])
  })

  after(async () => {
    for (const twin of twins) await twin.stop().catch(() => {})
    await Promise.all([admin, m1, m2, m3].map(async daemon => daemon?.destroy()))
    await Promise.all([echo?.close(), ops?.close()])
  })

  it('renew --groups dev: delivered to the connected member, which loses the @ops service without re-joining; its old certificate opens nothing', async t => {
    const oldCertificate = decodeCertificate(uint8ArrayFromString(JSON.parse(await readFile(join(m3.dataDir, 'networks.json'), 'utf8'))[0].certificate, 'base64'))
    assert.deepEqual(oldCertificate.groups, ['ops'])
    const fwd = await forwardTo(m3, 'm2/ops')
    assert.equal(fwd.peer, ids.m2, 'the name m2 resolves to m2\'s peer id')
    assert.equal(await waitFor('m3 to reach the @ops service', async () => (await echoProbe(fwd.port)) === 'Y' || undefined, 15_000, 500), true)
    await waitFor('m2 to see m3 in group ops', async () => (await peersOf(m2)).find(p => p.peerId === ids.m3)?.groups.includes('ops') || undefined, 5_000)

    const renewed = await cliJson<RenewedView>(admin.dataDir, ['renew', 'm3', '--groups', 'dev'])
    assert.equal(renewed.delivered, true, 'm3 is connected: the new certificate is pushed to it')
    assert.deepEqual(renewed.groups, ['dev'])
    assert.notEqual(renewed.serial, oldCertificate.serial.toString(), 'a new serial')
    const mine = await waitFor('m3 to hold its renewed certificate', async () => {
      const network = (await networksOf(m3))[0]
      return network?.serial === renewed.serial ? network : undefined
    }, 5_000)
    assert.deepEqual(mine.groups, ['dev'], 'm3\'s network ls shows its new groups')
    // the server's view of m3 changes: its groups come from the renewed certificate
    const seen = await waitFor('m2 to see m3 in group dev', async () => {
      const peer = (await peersOf(m2)).find(p => p.peerId === ids.m3)
      return peer != null && peer.groups.join() === 'dev' ? peer : undefined
    }, ENFORCEMENT_MS)
    assert.equal(seen.name, 'm3')
    assert.equal(seen.trusted, true, 'm3 is still a member')

    const before = ops.connections
    const failuresBefore = (await forwardFailures(m3, fwd.port)).denied ?? 0
    assert.equal(await echoProbe(fwd.port), 'N', 'the next tunnel to the @ops service is refused')
    const failures = await waitFor('m3\'s forward to count a denial', async () => {
      const now = await forwardFailures(m3, fwd.port)
      return (now.denied ?? 0) > failuresBefore ? now : undefined
    }, 5_000)
    t.diagnostic(`m3's forward to @ops: ${JSON.stringify(failures)}`)
    assert.equal(ops.connections, before, 'nothing reached the @ops service')
    // still a member: the open service works with the renewed certificate
    const open = await forwardTo(m3, `${ids.m2}/echo`)
    assert.equal(await echoProbe(open.port), 'Y', 'm3 still reaches a service open to every member')

    // the holder of m3's key shows its old certificate (group ops) again: m2 refuses it
    const twin = await startTwin(m3)
    twins.push(twin)
    const connection = await twin.node.dial(multiaddr(`${m2Listen}/p2p/${ids.m2}`))
    const answer = await exchangeHello(connection, { type: 'hello', certificates: [oldCertificate], revocations: [] })
    assert.equal(answer.type, 'hello')
    const stream = await connection.newStream(TUNNEL_PROTOCOL)
    let status: string
    try {
      stream.send(encodeRequest({ service: 'ops', vni: oldCertificate.vni, protocolType: ProtocolType.TCP }))
      const { envelope } = await readEnvelope(stream, responseDecoder(), 8_000)
      status = envelope.status === Status.OK ? 'OK' : `status ${envelope.status}`
    } catch (err: any) {
      status = `refused (${err.name})`
    } finally {
      stream.abort(new Error('done'))
    }
    t.diagnostic(`old certificate replayed by its own holder: ${status}`)
    assert.notEqual(status, 'OK', 'the old certificate (revoked serial) grants nothing')
    assert.equal(ops.connections, before, 'nothing reached the @ops service')
    await twin.stop()
    // the holder's refused hello replaced m3's memberships on m2 (SPEC 6.1: a later handshake replaces them);
    // a renewal makes m3 say hello again on its connections, with its valid certificate
    assert.equal((await cliJson<RenewedView>(admin.dataDir, ['renew', 'm3'])).delivered, true)
    assert.equal(await waitFor('m3 to reach m2 again', async () => (await echoProbe(open.port)) === 'Y' || undefined, ENFORCEMENT_MS, 300), true)
  })

  it('online: revoke m1 cuts its open tunnel to m2 within 10 s, and refuses new ones', async t => {
    const fwd = await forwardTo(m1, 'm2/echo')
    const socket = await connectTcp(fwd.port)
    const closed = closing(socket)
    let finAt: number | undefined
    socket.once('end', () => { finAt = Date.now() })
    const echoed = new Promise<string>(resolve => socket.once('data', chunk => resolve(chunk.toString())))
    socket.write('still here\n')
    assert.equal(await Promise.race([echoed, new Promise(resolve => setTimeout(resolve, 15_000, 'timeout'))]), 'still here\n', 'the tunnel is open')
    // earlier probes' service connections close a moment after their clients' (the far FIN waits for quiet)
    await waitFor('one connection open at the service', async () => (await serviceSockets(echo)) === 1 || undefined, 5_000, 100)

    const at = Date.now()
    const revoked = await cliJson<RevokedView>(admin.dataDir, ['revoke', 'm1'])
    assert.equal(revoked.peerId, ids.m1)
    // the client sees a reset, as when a TCP path is lost: never a FIN, which it would take for a complete reply
    const cut = await Promise.race([closed, new Promise<undefined>(resolve => setTimeout(() => { resolve(undefined) }, ENFORCEMENT_MS))])
    const cutAt = Date.now()
    // and the service behind m2 sees its connection closed too, within the same 10 s
    const serviceSide = await waitFor('the service side to close', async () => (await serviceSockets(echo)) === 0 ? 0 : undefined, Math.max(0, at + ENFORCEMENT_MS - Date.now()), 100).catch(async () => serviceSockets(echo))
    t.diagnostic(`client side: ${cut == null ? `still open ${ENFORCEMENT_MS} ms after the revoke` : `${finAt != null ? 'FIN, then ' : ''}closed (${cut.error ?? 'no error'}) ${cutAt - at} ms after running agentmesh revoke`}; sockets still open at the service on m2: ${serviceSide}`)
    assert.ok(cut != null, `the client sees its tunnel end within ${ENFORCEMENT_MS} ms of the revoke`)
    assert.equal(finAt, undefined, 'no FIN before the end: the client must not take the cut for a complete reply')
    assert.equal(cut.error, 'ECONNRESET', 'the client gets a TCP reset')
    socket.destroy()
    assert.equal(serviceSide, 0, 'm2 closed the service side of the revoked peer\'s tunnel')
    await waitForRevocations(m2, revoked.version, ENFORCEMENT_MS)

    const after = echo.connections
    for (let i = 0; i < ATTEMPTS; i++) assert.equal(await echoProbe(fwd.port, `after ${i}\n`), 'N', `attempt ${i} through m1's forward fails`)
    const failures = await forwardFailures(m1, fwd.port)
    t.diagnostic(`m1's forward after the revoke: ${JSON.stringify(failures)}`)
    assert.ok(Object.values(failures).reduce((a, b) => a + b, 0) >= ATTEMPTS, 'each attempt is counted as a failure')
    assert.equal(echo.connections, after, 'the service saw no connection after the cut')
    const view = (await peersOf(m2)).find(p => p.peerId === ids.m1)
    assert.equal(view?.trusted ?? false, false, 'm2 no longer trusts m1')
  })

  it('offline: m2, stopped during `revoke m3`, holds the list within 10 s of its return and refuses m3', async t => {
    const fwd = await forwardTo(m3, `${ids.m2}/echo`)
    assert.equal(await echoProbe(fwd.port), 'Y', 'm3 reaches m2 before the revoke')
    assert.equal(await m2.stop(), 0, 'm2 stops on SIGTERM')
    const revoked = await cliJson<RevokedView>(admin.dataDir, ['revoke', 'm3'])

    m2 = await TestDaemon.start({ dataDir: m2.dataDir, listen: [m2Listen], bootstrap: (await admin.id()).addresses })
    const back = Date.now()
    assert.equal((await m2.id()).peerId, ids.m2, 'the same identity')
    await waitForRevocations(m2, revoked.version, ENFORCEMENT_MS)
    t.diagnostic(`m2 held revocation list v${revoked.version} ${Date.now() - back} ms after its control API answered`)

    const before = echo.connections
    const failuresBefore = Object.values(await forwardFailures(m3, fwd.port)).reduce((a, b) => a + b, 0)
    for (let i = 0; i < ATTEMPTS; i++) assert.equal(await echoProbe(fwd.port, `after ${i}\n`), 'N', `attempt ${i} from m3 fails`)
    const failures = await forwardFailures(m3, fwd.port)
    t.diagnostic(`m3's forward after the revoke: ${JSON.stringify(failures)}`)
    assert.ok(Object.values(failures).reduce((a, b) => a + b, 0) - failuresBefore >= ATTEMPTS, 'each attempt is counted as a failure')
    assert.equal(echo.connections, before, 'zero new connections at the service')
    // m2 is up and serves the members it should: the refusal is m3's revocation, not m2 being away
    const control = await forwardTo(admin, 'm2/echo')
    assert.equal(await waitFor('the admin to reach m2\'s echo', async () => (await echoProbe(control.port)) === 'Y' || undefined, 15_000, 500), true)
    assert.equal(echo.connections, before + 1, 'the admin\'s connection, and only it, reached the service')
  })
})
