/**
 * The NAT lab's routers behave like the NATs they stand for, seen by plain TCP: a cone
 * NAT keeps one public port per local port whatever the destination, a symmetric NAT
 * takes a new one per destination, and both drop unsolicited inbound connections
 * silently (a timeout, not a refusal). The later NAT traversal tests build on this.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { labMissing, NatLab } from './lab.ts'

const missing = labMissing()

/** A TCP server answering each connection with the address and port it came from. */
const WHOAMI = "const net = require('net'); for (const port of [7000, 7001]) net.createServer(s => s.end(s.remoteAddress + ':' + s.remotePort)).listen(port, '0.0.0.0')"

/** Connects from a fixed local port and prints what the server saw, or how it failed. */
const client = (host: string, port: number, localPort: number): string => `
const s = require('net').connect({ host: '${host}', port: ${port}, localPort: ${localPort}, timeout: 2000 })
let out = ''
s.on('data', d => { out += d })
s.on('end', () => { console.log(out); process.exit(0) })
s.on('timeout', () => { console.log('timeout'); process.exit(0) })
s.on('error', e => { console.log('error ' + e.code); process.exit(0) })`

describe('NAT lab', { skip: missing === false ? undefined : missing }, () => {
  let lab: NatLab

  before(async () => {
    lab = await NatLab.create([{ name: 'pub', kind: 'public' }, { name: 'cone1', kind: 'cone' }, { name: 'sym1', kind: 'symmetric' }])
    lab.spawn('pub', process.execPath, ['-e', WHOAMI], { stdio: 'ignore' })
    await sleep(500)
  })

  after(async () => {
    await lab?.destroy()
  })

  /** What the public server saw of two connections from one local port to its two ports. */
  async function observed (site: string, localPort: number): Promise<string[]> {
    const pub = lab.site('pub').address
    const seen: string[] = []
    for (const port of [7000, 7001]) {
      seen.push((await lab.exec(site, process.execPath, '-e', client(pub, port, localPort))).trim())
      await sleep(100)
    }
    return seen
  }

  it('a public host is reached directly', async () => {
    assert.equal((await lab.exec('pub', process.execPath, '-e', client(lab.site('pub').address, 7000, 40000))).trim(), `${lab.site('pub').address}:40000`)
  })

  it('cone: one public port per local port, whatever the destination', async () => {
    const [first, second] = await observed('cone1', 40001)
    assert.match(first ?? '', new RegExp(`^${lab.site('cone1').publicAddress.replaceAll('.', '\\.')}:\\d+$`), 'the server sees the router, not the host')
    assert.equal(first, second)
  })

  it('symmetric: a new public port per destination', async () => {
    const [first, second] = await observed('sym1', 40002)
    assert.ok(first?.startsWith(`${lab.site('sym1').publicAddress}:`))
    assert.ok(second?.startsWith(`${lab.site('sym1').publicAddress}:`))
    assert.notEqual(first, second)
  })

  it('both drop unsolicited inbound connections silently', async () => {
    for (const site of ['cone1', 'sym1']) {
      const answer = (await lab.exec('pub', process.execPath, '-e', client(lab.site(site).publicAddress, 7000, 40003))).trim()
      assert.equal(answer, 'timeout', `${site}: no answer at all, not a refusal`)
    }
  })
})
