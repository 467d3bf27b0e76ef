/**
 * Caller identity through a tunnel: `agentmesh expose <service> <host:port>
 * --proxy-protocol` on the exposing node A makes it write a PROXY protocol v2
 * header (protocols/tunnel/SPEC.md, "Caller identity: PROXY protocol v2") in
 * front of each tunnelled connection to the service. B forwards local ports to
 * A's services and curl goes through them: a real nginx (`listen ...
 * proxy_protocol`) must log B's virtual address in the allowlist (VNI 0) as
 * `$proxy_protocol_addr`, and a member C of a network A administers in that
 * network's prefix; a raw TCP server behind a second `--proxy-protocol`
 * service sees the whole header (peer id, name, groups, VNI TLVs) and then
 * exactly the client's bytes; services exposed without the flag get no header.
 */

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { decodeProxyHeader, PROXY_SOURCE_PORT_COUNT, PROXY_SOURCE_PORT_FIRST, PROXY_V2_SIGNATURE } from '../../protocols/tunnel/proxy-header.ts'
import { formatIpv6, virtualIpv6 } from '../../protocols/tunnel/virtual-address.ts'
import { cliJson, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { agentmesh, failureCount, forward, forwardView, services, trust } from '../helpers/services/mesh.ts'
import { NGINX_BODY, nginxMissing, startNginx } from '../helpers/services/nginx.ts'
import { describeRun, run } from '../helpers/services/process.ts'
import { roundTrip, startTcpServer } from '../helpers/services/tcp.ts'
import { missingTool } from '../helpers/services/tools.ts'
import type { Forward } from '../helpers/services/mesh.ts'
import type { Nginx, NginxAccess } from '../helpers/services/nginx.ts'
import type { TcpService } from '../helpers/services/tcp.ts'
import type { NetworkView } from '../../src/control/api.ts'

const skip = nginxMissing() || missingTool('curl', 'curl')

/** The name and groups A gives B in its trust store: the header's 0xE1 and 0xE2 TLVs. */
const B_NAME = 'bee'
const B_GROUPS = ['ops', 'dev']

/**
 * A TCP server that keeps every byte each connection sent until its FIN, then
 * answers `ok <bytes received>` and closes. Connections that send nothing
 * (`expose` and `services` probe the target) are left out of `received`.
 */
async function startRecordingServer (): Promise<TcpService & { received: Buffer[] }> {
  const received: Buffer[] = []
  const service = await startTcpServer(socket => {
    const chunks: Buffer[] = []
    socket.on('data', chunk => { chunks.push(chunk) })
    socket.once('end', () => {
      const bytes = Buffer.concat(chunks)
      if (bytes.length > 0) received.push(bytes)
      socket.end(`ok ${bytes.length}\n`)
    })
  })
  return Object.assign(service, { received })
}

function inSourcePortRange (port: number | undefined): boolean {
  return port != null && port >= PROXY_SOURCE_PORT_FIRST && port < PROXY_SOURCE_PORT_FIRST + PROXY_SOURCE_PORT_COUNT
}

describe('PROXY protocol v2 in front of --proxy-protocol services', { skip }, () => {
  const daemons: TestDaemon[] = []
  let a: TestDaemon, b: TestDaemon
  let aId: string, bId: string
  let nginx: Nginx | undefined
  let raw: (TcpService & { received: Buffer[] }) | undefined
  let rawPlain: (TcpService & { received: Buffer[] }) | undefined
  let web: Forward, webPlain: Forward, rawFwd: Forward, rawPlainFwd: Forward
  /** B's and A's virtual addresses in the allowlist (VNI 0), as nginx prints them */
  let bAddress: string, aAddress: string

  async function curl (fwd: Forward, path: string): Promise<string> {
    const result = await run('curl', ['--silent', '--show-error', '--fail', '--max-time', '20', `http://127.0.0.1:${fwd.port}${path}`], { timeoutMs: 30_000 })
    assert.equal(result.code, 0, `${describeRun(`curl ${path}`, result)}\nnginx error log:\n${await nginx?.errorLog()}`)
    return result.stdout
  }

  async function logged (path: string): Promise<NginxAccess> {
    return waitFor(`nginx to log ${path}`, async () => (await nginx!.accessLog()).find(line => line.request === `GET ${path} HTTP/1.1`), 5_000, 50)
  }

  before(async () => {
    nginx = await startNginx()
    raw = await startRecordingServer()
    rawPlain = await startRecordingServer()
    a = await TestDaemon.start()
    daemons.push(a)
    const aIdentity = await a.id()
    aId = aIdentity.peerId
    b = await TestDaemon.start({ bootstrap: aIdentity.addresses })
    daemons.push(b)
    bId = (await b.id()).peerId
    await agentmesh(a, ['trust', 'add', bId, '--name', B_NAME, '--groups', B_GROUPS.join(',')])
    await trust(b, aId, 'a')
    bAddress = virtualIpv6(undefined, peerIdFromString(bId))
    aAddress = virtualIpv6(undefined, peerIdFromString(aId))
    await agentmesh(a, ['expose', 'web', nginx.target, '--proxy-protocol'])
    await agentmesh(a, ['expose', 'web-plain', nginx.plainTarget])
    await agentmesh(a, ['expose', 'raw', raw.target, '--proxy-protocol'])
    await agentmesh(a, ['expose', 'raw-plain', rawPlain.target])
    web = await forward(b, aId, 'web')
    webPlain = await forward(b, aId, 'web-plain')
    rawFwd = await forward(b, aId, 'raw')
    rawPlainFwd = await forward(b, aId, 'raw-plain')
  })

  after(async () => {
    await Promise.all([...daemons.map(async daemon => daemon.destroy()), nginx?.stop(), raw?.close(), rawPlain?.close()])
  })

  it('`agentmesh services --json` shows which services get the header', async () => {
    const listed = new Map((await services(a)).map(service => [service.name, service as typeof service & { proxyProtocol?: unknown }]))
    assert.equal(listed.get('web')?.proxyProtocol, true, JSON.stringify(listed.get('web')))
    assert.equal(listed.get('raw')?.proxyProtocol, true, JSON.stringify(listed.get('raw')))
    assert.equal(listed.get('web-plain')?.proxyProtocol, false, JSON.stringify(listed.get('web-plain')))
    assert.equal(listed.get('raw-plain')?.proxyProtocol, false, JSON.stringify(listed.get('raw-plain')))
  })

  it('nginx behind --proxy-protocol logs the caller\'s virtual address as $proxy_protocol_addr', async () => {
    assert.equal(await curl(web, '/first'), NGINX_BODY)
    const line = await logged('/first')
    assert.equal(line.proxyProtocolAddr, bAddress, `B (${bId}) is ${bAddress} in the allowlist`)
    assert.equal(line.proxyProtocolServerAddr, aAddress, `A (${aId}) is ${aAddress} in the allowlist`)
    assert.equal(line.proxyProtocolServerPort, nginx!.port, 'the destination port is the service\'s')
    assert.ok(inSourcePortRange(line.proxyProtocolPort), `source port ${line.proxyProtocolPort} in the dynamic range`)
    assert.equal(line.remoteAddr, '127.0.0.1')
    assert.equal(line.serverPort, nginx!.port)
  })

  it('each connection gets its own header: same address, another source port', async () => {
    assert.equal(await curl(web, '/second'), NGINX_BODY)
    assert.equal(await curl(web, '/third'), NGINX_BODY)
    const [second, third] = [await logged('/second'), await logged('/third')]
    assert.equal(second.proxyProtocolAddr, bAddress)
    assert.equal(third.proxyProtocolAddr, bAddress)
    assert.ok(inSourcePortRange(second.proxyProtocolPort) && inSourcePortRange(third.proxyProtocolPort))
    assert.notEqual(second.proxyProtocolPort, third.proxyProtocolPort, 'two connections, two source ports')
    assert.equal((await nginx!.errorLog()).match(/broken header|header is too large/g), null, 'nginx refused no header')
  })

  it('a service exposed without the flag gets no header (nginx\'s plain listener)', async () => {
    assert.equal(await curl(webPlain, '/plain'), NGINX_BODY)
    const line = await logged('/plain')
    assert.equal(line.serverPort, nginx!.plainPort)
    assert.equal(line.proxyProtocolAddr, undefined, 'no PROXY address on the plain listener')
  })

  it('the raw bytes: the whole header, then exactly the client\'s bytes', async () => {
    const message = Buffer.from('hello through a --proxy-protocol tunnel\n')
    const before = raw!.received.length
    const reply = await roundTrip(rawFwd.port, message, 15_000)
    const got = await waitFor('the raw service to record the connection', async () => raw!.received.length > before ? raw!.received[before] : undefined, 5_000, 50)
    const { header, length } = decodeProxyHeader(got)
    assert.deepEqual(got.subarray(length), message, 'the client\'s bytes, unchanged, right behind the header')
    assert.equal(reply.toString(), `ok ${got.length}\n`, 'the service\'s answer reaches the client')
    assert.equal(header.peerId, bId)
    assert.equal(header.name, B_NAME)
    assert.deepEqual(header.groups, B_GROUPS)
    assert.equal(header.vni, 0)
    assert.equal(formatIpv6(header.source), bAddress)
    assert.equal(formatIpv6(header.destination), aAddress)
    assert.equal(header.destinationPort, raw!.port)
    assert.ok(inSourcePortRange(header.sourcePort), `source port ${header.sourcePort}`)
    assert.deepEqual(header.otherTlvs, [])
  })

  it('the raw bytes without the flag: exactly the client\'s bytes, no signature', async () => {
    const message = Buffer.concat([Buffer.from('no header here\n'), PROXY_V2_SIGNATURE])
    const before = rawPlain!.received.length
    const reply = await roundTrip(rawPlainFwd.port, message, 15_000)
    const got = await waitFor('the plain raw service to record the connection', async () => rawPlain!.received.length > before ? rawPlain!.received[before] : undefined, 5_000, 50)
    assert.deepEqual(got, message)
    assert.equal(reply.toString(), `ok ${message.length}\n`)
  })

  it('a member\'s tunnel: its network\'s prefix, and the name and groups of its certificate', async () => {
    const network = await cliJson<NetworkView>(a.dataDir, ['network', 'init', 'fleet'])
    const c = await TestDaemon.start({ bootstrap: (await a.id()).addresses })
    daemons.push(c)
    const cId = (await c.id()).peerId
    await agentmesh(c, ['join', (await agentmesh(a, ['invite', cId, '--name', 'cee', '--groups', 'ml'])).trim()])
    const networkKey = uint8ArrayFromString(network.networkKey, 'base16')
    const viaMember = await forward(c, aId, 'web')
    assert.equal(await curl(viaMember, '/member'), NGINX_BODY)
    const line = await logged('/member')
    assert.equal(line.proxyProtocolAddr, virtualIpv6(networkKey, peerIdFromString(cId)), 'C\'s address in fleet')
    assert.equal(line.proxyProtocolServerAddr, virtualIpv6(networkKey, peerIdFromString(aId)), 'A\'s address in fleet')
    const rawViaMember = await forward(c, aId, 'raw')
    const before = raw!.received.length
    await roundTrip(rawViaMember.port, Buffer.from('member\n'), 15_000)
    const got = await waitFor('the raw service to record the member\'s connection', async () => raw!.received.length > before ? raw!.received[before] : undefined, 5_000, 50)
    const { header } = decodeProxyHeader(got)
    assert.deepEqual({ peerId: header.peerId, name: header.name, groups: header.groups, vni: header.vni }, { peerId: cId, name: 'cee', groups: ['ml'], vni: network.vni })
  })

  it('no failures on B\'s forwards', async () => {
    for (const fwd of [web, webPlain, rawFwd, rawPlainFwd]) {
      const view = await forwardView(b, fwd.port)
      assert.equal(failureCount(view.failures), 0, `${view.service}: ${JSON.stringify(view.failures)}`)
    }
  })
})
