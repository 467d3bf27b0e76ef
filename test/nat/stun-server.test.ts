import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import {
  AttributeType, decodeXorMappedAddress, encodeBindingSuccess, MessageType, readMessage, StunServer
} from '../../src/nat/stun/index.ts'
import { missingTool } from '../helpers/services/tools.ts'
import { ERROR_420, hex, RFC5769_REQUEST, toHex, TRANSACTION_ID } from './vectors.ts'
import type { MappedAddress } from '../../src/nat/stun/index.ts'
import type { TestContext } from 'node:test'
import type { Socket, SocketType } from 'node:dgram'

/** The longest wait for any one answer; loopback answers take well under a millisecond. */
const ANSWER_MS = 2000
/** How long a client tool gets before the test gives up on it. */
const TOOL_MS = 10_000

/** A Binding request with no attributes: what libjuice and most clients send to a STUN server. */
const BARE_REQUEST = Buffer.concat([hex('0001 0000 2112a442'), TRANSACTION_ID])

async function startServer (t: TestContext, host: string): Promise<{ server: StunServer, port: number }> {
  const server = new StunServer({ host, port: 0 })
  await server.start()
  t.after(async () => { await server.stop() })
  const address = server.address()
  assert.ok(address !== undefined)
  return { server, port: address.port }
}

async function client (t: TestContext, type: SocketType, host: string): Promise<Socket> {
  const socket = createSocket(type)
  t.after(() => { socket.close() })
  socket.bind(0, host)
  await once(socket, 'listening')
  return socket
}

async function receive (socket: Socket): Promise<Buffer> {
  const [datagram] = await once(socket, 'message', { signal: AbortSignal.timeout(ANSWER_MS) }) as [Buffer]
  return datagram
}

/** The mapped address of a Binding success response, read as a client would. */
function mappedAddress (response: Buffer): MappedAddress | undefined {
  const message = readMessage(response)
  assert.equal(message.kind, 'message')
  if (message.kind !== 'message') return undefined
  assert.equal(message.type, MessageType.BINDING_SUCCESS)
  const attribute = message.attributes.find(({ type }) => type === AttributeType.XOR_MAPPED_ADDRESS)
  return attribute && decodeXorMappedAddress(attribute.value, message.transactionId)
}

async function canBind (type: SocketType, host: string): Promise<boolean> {
  const socket = createSocket(type)
  try {
    await new Promise<void>((resolve, reject) => { socket.once('error', reject).bind(0, host, resolve) })
    return true
  } catch {
    return false
  } finally {
    socket.close()
  }
}

const ipv6Loopback = await canBind('udp6', '::1')

describe('StunServer on loopback', () => {
  it('answers 127.0.0.1 with the client\'s own address and port', async t => {
    const { server, port } = await startServer(t, '127.0.0.1')
    assert.deepEqual(server.address(), { host: '127.0.0.1', port })
    const socket = await client(t, 'udp4', '127.0.0.1')
    socket.send(BARE_REQUEST, port, '127.0.0.1')
    const response = await receive(socket)
    const { address, port: clientPort } = socket.address()
    assert.deepEqual(mappedAddress(response), { address: '127.0.0.1', port: clientPort })
    assert.equal(response.toString('hex'), Buffer.from(encodeBindingSuccess(TRANSACTION_ID, { address, port: clientPort })).toString('hex'))
    assert.deepEqual(server.counters, { answered: 1, discarded: 0 })
  })

  it('answers an unknown comprehension-required attribute with the fixed 420', async t => {
    const { server, port } = await startServer(t, '127.0.0.1')
    const socket = await client(t, 'udp4', '127.0.0.1')
    socket.send(RFC5769_REQUEST, port, '127.0.0.1')
    assert.equal((await receive(socket)).toString('hex'), toHex(ERROR_420))
    assert.deepEqual(server.counters, { answered: 1, discarded: 0 })
  })

  it('answers ::1 with an IPv6 mapped address', { skip: !ipv6Loopback && 'no IPv6 loopback here' }, async t => {
    const { port } = await startServer(t, '::1')
    const socket = await client(t, 'udp6', '::1')
    socket.send(BARE_REQUEST, port, '::1')
    assert.deepEqual(mappedAddress(await receive(socket)), { address: '0:0:0:0:0:0:0:1', port: socket.address().port })
  })

  it('binds "::" and "0.0.0.0" on one port, each answering its own family, as the TCP listeners do', { skip: !ipv6Loopback && 'no IPv6 here' }, async t => {
    const { server: v6, port } = await startServer(t, '::')
    assert.equal(v6.address()?.host, '::')
    const v4 = new StunServer({ host: '0.0.0.0', port })
    await v4.start()
    t.after(async () => { await v4.stop() })
    const socket4 = await client(t, 'udp4', '127.0.0.1')
    socket4.send(BARE_REQUEST, port, '127.0.0.1')
    const response = await receive(socket4)
    assert.equal(response.subarray(24, 26).toString('hex'), '0001', 'family IPv4')
    assert.deepEqual(mappedAddress(response), { address: '127.0.0.1', port: socket4.address().port })
    const socket6 = await client(t, 'udp6', '::1')
    socket6.send(BARE_REQUEST, port, '::1')
    assert.deepEqual(mappedAddress(await receive(socket6)), { address: '0:0:0:0:0:0:0:1', port: socket6.address().port })
    assert.deepEqual([v4.counters.answered, v6.counters.answered], [1, 1])
  })

  it('drops garbage without a word and answers the next request', async t => {
    const { server, port } = await startServer(t, '127.0.0.1')
    const socket = await client(t, 'udp4', '127.0.0.1')
    const received: Buffer[] = []
    socket.on('message', datagram => { received.push(datagram) })
    const rfc3489Request = Buffer.concat([hex('0001 0000'), Buffer.alloc(16, 7)])
    const garbage = [
      Buffer.alloc(0), Buffer.from('GET / HTTP/1.1\r\n\r\n'), BARE_REQUEST.subarray(0, 19), rfc3489Request,
      Buffer.concat([hex('0101 0000 2112a442'), TRANSACTION_ID]), Buffer.alloc(1400), RFC5769_REQUEST.subarray(0, 100)
    ]
    for (const datagram of garbage) socket.send(datagram, port, '127.0.0.1')
    const last = Buffer.from(BARE_REQUEST)
    last[19] ^= 0xff
    socket.send(last, port, '127.0.0.1')
    await receive(socket)
    await sleep(200) // room for any stray answer to arrive
    assert.equal(received.length, 1)
    assert.deepEqual(received[0].subarray(8, 20), last.subarray(8, 20))
    assert.deepEqual(server.counters, { answered: 1, discarded: garbage.length })
  })

  it('drops a datagram forged with source port 0, which dgram cannot answer', { skip: missingTool('python3', 'python3') }, async t => {
    const { server, port } = await startServer(t, '127.0.0.1')
    // a raw socket is the only way to send from port 0; UDP checksum 0 means "none" over IPv4
    const forge = `import socket, struct, sys
data = bytes.fromhex(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.sendto(struct.pack('!HHHH', 0, int(sys.argv[1]), 8 + len(data), 0) + data, ('127.0.0.1', 0))`
    const forged = spawnSync('python3', ['-c', forge, String(port), BARE_REQUEST.toString('hex')], { timeout: TOOL_MS, encoding: 'utf8' })
    if (forged.status !== 0 && forged.stderr.includes('PermissionError')) {
      t.skip('raw sockets not permitted (needs CAP_NET_RAW)')
      return
    }
    assert.equal(forged.status, 0, forged.stderr)
    for (const deadline = Date.now() + ANSWER_MS; server.counters.discarded === 0 && Date.now() < deadline;) await sleep(10)
    assert.deepEqual(server.counters, { answered: 0, discarded: 1 })
    const socket = await client(t, 'udp4', '127.0.0.1')
    socket.send(BARE_REQUEST, port, '127.0.0.1')
    await receive(socket)
  })

  it('stop() frees the port and may be called twice', async t => {
    const { server, port } = await startServer(t, '127.0.0.1')
    await server.stop()
    await server.stop()
    assert.equal(server.address(), undefined)
    const socket = createSocket('udp4')
    t.after(() => { socket.close() })
    await new Promise<void>((resolve, reject) => { socket.once('error', reject).bind(port, '127.0.0.1', resolve) })
  })

  it('start() rejects when the port is taken, holding nothing', async t => {
    const taken = await client(t, 'udp4', '127.0.0.1')
    const server = new StunServer({ host: '127.0.0.1', port: taken.address().port })
    await assert.rejects(server.start(), { code: 'EADDRINUSE' })
    assert.equal(server.address(), undefined)
    await server.stop()
  })
})

describe('real STUN clients', () => {
  it('coturn\'s turnutils_stunclient reads a reflexive address on 127.0.0.1', { skip: missingTool('turnutils_stunclient', 'coturn') }, async t => {
    const { server, port } = await startServer(t, '127.0.0.1')
    const { stdout } = await promisify(execFile)('turnutils_stunclient', ['-p', String(port), '127.0.0.1'], { timeout: TOOL_MS })
    t.diagnostic(stdout.trim().replaceAll('\n', ' | '))
    assert.match(stdout, /UDP reflexive addr: 127\.0\.0\.1:\d+/)
    assert.deepEqual(server.counters, { answered: 1, discarded: 0 })
  })

  it('libjuice (node-datachannel, as @libp2p/webrtc loads it) gathers a server-reflexive candidate from us', async t => {
    const { server, port } = await startServer(t, '127.0.0.1')
    // the copy @libp2p/webrtc resolves, so this is the ICE agent the mesh really runs
    const ndc = createRequire(import.meta.resolve('@libp2p/webrtc'))('node-datachannel') as typeof import('node-datachannel')
    const peer = new ndc.PeerConnection('stun-probe', { iceServers: [`stun:127.0.0.1:${port}`] })
    t.after(() => {
      peer.close()
      ndc.cleanup()
    })
    const candidates: string[] = []
    peer.onLocalCandidate(candidate => { candidates.push(candidate) })
    const gathered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`gathering incomplete after ${TOOL_MS} ms: ${candidates.join(' / ')}`)) }, TOOL_MS)
      peer.onGatheringStateChange(state => {
        if (state !== 'complete') return
        clearTimeout(timer)
        resolve()
      })
    })
    peer.createDataChannel('probe')
    await gathered
    // "a=candidate:3 1 UDP 1678769663 127.0.0.1 45399 typ srflx raddr 0.0.0.0 rport 0"
    const parsed = candidates.map(line => /candidate:\S+ \d+ UDP \d+ (\S+) (\d+) typ (\w+)/i.exec(line)?.slice(1) ?? [])
    const hostPorts = new Set(parsed.filter(([, , type]) => type === 'host').map(([, candidatePort]) => candidatePort))
    const srflx = parsed.find(([, , type]) => type === 'srflx')
    assert.ok(srflx !== undefined, `no srflx candidate among ${candidates.join(' / ')}`)
    // loopback is never a host candidate, so the reflexive 127.0.0.1 survives; one socket, one port
    assert.equal(srflx[0], '127.0.0.1')
    assert.ok(hostPorts.has(srflx[1]), `srflx port ${srflx[1]} is none of the host candidates' ${[...hostPorts].join(', ')}`)
    assert.ok(server.counters.answered >= 1)
    assert.equal(server.counters.discarded, 0)
  })
})
