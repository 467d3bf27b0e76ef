/**
 * `node bench/lib/peer-swarm.ts <count> <multiaddr> [dials per second]`: `count`
 * minimal libp2p nodes in this one process, each speaking what a mesh member speaks
 * (TCP, noise, yamux, identify, ping, and the kad-dht under the mesh's private
 * protocol, in server mode with a listen address, as a LAN member is), each dialling
 * the node at `multiaddr`, paced so as to stay under the daemon's per-host inbound
 * rate limit. Prints `{"connected": n, ...}` once all dials are done, then holds the
 * connections until SIGTERM/SIGINT (or its parent exits, or 5 minutes pass), when it
 * stops every node and exits.
 * Spawning `count` daemons instead would measure `count` Node runtimes, not the peers.
 */

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { setTimeout as sleep } from 'node:timers/promises'
import { DHT_PROTOCOL } from '../../src/node/constants.ts'
import type { Libp2p } from '@libp2p/interface'

const MAX_PEERS = 1_000
const DIAL_TIMEOUT_MS = 10_000
const SELF_QUERY_MS = 3_600_000
const MAX_LIFETIME_MS = 5 * 60_000

const count = Number(process.argv[2])
const target = multiaddr(process.argv[3] ?? '')
const perSecond = Number(process.argv[4] ?? 20)
if (!Number.isInteger(count) || count < 1 || count > MAX_PEERS) throw new Error(`count must be 1..${MAX_PEERS}`)
if (!(perSecond > 0 && perSecond <= 1_000)) throw new Error('dials per second must be in (0, 1000]')

const nodes: Libp2p[] = []
let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  const timer = setTimeout(() => { process.exit(1) }, 10_000)
  await Promise.allSettled(nodes.map(async node => node.stop()))
  clearTimeout(timer)
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
process.on('SIGINT', () => { void stop() })
// never outlive the benchmark: stop when the parent is gone, and after MAX_LIFETIME_MS in any case
const parent = process.ppid
setInterval(() => { if (process.ppid !== parent) void stop() }, 1_000).unref()
setTimeout(() => { void stop() }, MAX_LIFETIME_MS).unref()

let connected = 0
const errors: string[] = []
const dials: Array<Promise<void>> = []
for (let i = 0; i < count && !stopping; i++) {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      // the mesh's DHT protocol; no periodic self-lookups, which would make the swarm's
      // nodes find and dial each other and measure the swarm rather than the daemon
      dht: kadDHT({ protocol: DHT_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper, initialQuerySelfInterval: SELF_QUERY_MS, querySelfInterval: SELF_QUERY_MS })
    }
  })
  nodes.push(node)
  dials.push(node.dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).then(() => { connected++ }, err => { errors.push(err.message) }))
  await sleep(1000 / perSecond)
}
await Promise.all(dials)
process.stdout.write(`${JSON.stringify({ connected, errors: errors.slice(0, 5), seconds: Math.round(performance.now() / 100) / 10 })}\n`)
// hold the connections until told to stop (the listening nodes keep the process alive)
