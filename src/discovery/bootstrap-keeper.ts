import { KEEP_ALIVE } from '@libp2p/interface'
import { repeatingTask } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdOf } from '../addresses/peer-ids.ts'
import type { Logger } from '../log/logger.ts'
import type { MeshNode } from '../node/mesh-node.ts'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { RepeatingTask } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BootstrapKeeperInit {
  /** multiaddrs ending in /p2p/<peer id> */
  addresses: string[]
  /** how often a bootstrap node that is not connected is dialled again */
  redialSeconds: number
  /** called after each successful (re)connection to a bootstrap node */
  onConnect(peer: PeerId): void
}

export interface BootstrapKeeperComponents {
  node: Pick<MeshNode, 'dial' | 'getConnections' | 'peerStore'>
  log: Logger
}

interface BootstrapPeer {
  id: PeerId
  address: Multiaddr
  /** the last dial failed; its next failure is not logged again */
  down: boolean
}

/**
 * Keeps the node connected to its bootstrap nodes: dials them at start and re-dials any
 * that is not connected every `redialSeconds`, so a bootstrap node that was down is
 * rejoined when it comes back, without help.
 */
export class BootstrapKeeper {
  private readonly peers: BootstrapPeer[]
  private readonly init: BootstrapKeeperInit
  private readonly components: BootstrapKeeperComponents
  private readonly redials: RepeatingTask
  private readonly controller = new AbortController()

  constructor (components: BootstrapKeeperComponents, init: BootstrapKeeperInit) {
    this.components = components
    this.init = init
    this.peers = init.addresses.map(bootstrapPeer)
    this.redials = repeatingTask(async options => { await this.redial(options) }, init.redialSeconds * 1000)
  }

  async start (): Promise<void> {
    await this.keep(this.peers)
  }

  /** More bootstrap nodes, such as the inviter's addresses of a token just joined with: dialled now and kept. */
  async add (addresses: string[]): Promise<void> {
    const known = new Set(this.peers.map(peer => peer.address.toString()))
    const added = addresses.filter(address => !known.has(address)).map(bootstrapPeer)
    this.peers.push(...added)
    await this.keep(added)
  }

  private async keep (peers: BootstrapPeer[]): Promise<void> {
    for (const peer of peers) {
      // KEEP_ALIVE spares bootstrap connections from the connection pruner
      await this.components.node.peerStore.merge(peer.id, {
        multiaddrs: [peer.address],
        tags: { [KEEP_ALIVE]: { value: 1 } }
      })
    }
    if (peers.length === 0) return
    for (const peer of peers) void this.dial(peer, this.controller.signal)
    this.redials.start()
  }

  stop (): void {
    this.redials.stop()
    this.controller.abort()
  }

  private async redial (options: AbortOptions = {}): Promise<void> {
    await Promise.all(this.peers
      .filter(peer => this.components.node.getConnections(peer.id).length === 0)
      .map(async peer => this.dial(peer, options.signal)))
  }

  private async dial (peer: BootstrapPeer, signal?: AbortSignal): Promise<void> {
    const { log, node } = this.components
    try {
      await node.dial(peer.address, { signal })
      log.info({ peer: peer.id.toString() }, peer.down ? 'bootstrap node is back' : 'connected to bootstrap node')
      peer.down = false
      this.init.onConnect(peer.id)
    } catch (err: any) {
      if (signal?.aborted === true) return
      if (!peer.down) log.warn({ peer: peer.id.toString(), address: peer.address.toString() }, `bootstrap node unreachable, retrying every ${this.init.redialSeconds}s: ${err.message}`)
      peer.down = true
    }
  }
}

function bootstrapPeer (address: string): BootstrapPeer {
  const ma = multiaddr(address)
  const id = peerIdOf(ma)
  if (id == null) throw new Error(`bootstrap address ${address} has no /p2p/<peer id>`)
  return { id: peerIdFromString(id), address: ma, down: false }
}
