import { peerIdFromString } from '@libp2p/peer-id'
import { readJsonFile, writeJsonFile } from '../state/json-file.ts'
import { UserError } from '../errors.ts'
import type { TrustedPeer } from '../control/api.ts'
import type { PeerId } from '@libp2p/interface'

/** What `onChange` listeners hear: a peer added, changed (its name or groups) or removed. */
export interface TrustChange {
  peer: string
  change: 'added' | 'updated' | 'removed'
  name?: string
  groups?: string[]
}

export class TrustError extends UserError {
  override name = 'TrustError'
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/
const GROUP_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/

/**
 * The allowlist: only trusted peers may open tunnels to this node, and it opens tunnels
 * only to peers it trusts. Persisted in `trust.json` in the data directory.
 */
export class TrustStore {
  private readonly file: string
  private readonly peers = new Map<string, TrustedPeer>()
  private readonly listeners = new Set<(change: TrustChange) => void>()

  private constructor (file: string) {
    this.file = file
  }

  static async load (file: string): Promise<TrustStore> {
    const store = new TrustStore(file)
    for (const peer of await readJsonFile<TrustedPeer[]>(file, [])) store.peers.set(peer.peerId, peer)
    return store
  }

  /** Calls `listener` after every change that was saved. */
  onChange (listener: (change: TrustChange) => void): void {
    this.listeners.add(listener)
  }

  isTrusted (peer: PeerId): boolean {
    return this.peers.has(peer.toString())
  }

  get (peerId: string): TrustedPeer | undefined {
    return this.peers.get(peerId)
  }

  /** A trusted peer by name, or by peer id. */
  resolve (nameOrPeerId: string): TrustedPeer | undefined {
    return this.peers.get(nameOrPeerId) ?? this.list().find(peer => peer.name === nameOrPeerId)
  }

  list (): TrustedPeer[] {
    return [...this.peers.values()].sort((a, b) => (a.name ?? a.peerId).localeCompare(b.name ?? b.peerId))
  }

  /** Adds a peer, or updates its name and groups. */
  async add (peerId: string, options: { name?: string, groups?: string[] } = {}): Promise<TrustedPeer> {
    try {
      peerIdFromString(peerId)
    } catch {
      throw new TrustError(`"${peerId}" is not a peer id (it looks like 12D3KooW...)`)
    }
    if (options.name != null && !NAME_PATTERN.test(options.name)) throw new TrustError(`name "${options.name}": expected 1-63 lowercase letters, digits or dashes`)
    const badGroup = options.groups?.find(group => !GROUP_PATTERN.test(group))
    if (badGroup != null) throw new TrustError(`group "${badGroup}": expected lowercase letters, digits, dashes or underscores`)
    const holder = options.name == null ? undefined : this.list().find(peer => peer.name === options.name && peer.peerId !== peerId)
    if (holder != null) throw new TrustError(`the name "${options.name}" is already given to ${holder.peerId}`)
    const previous = this.peers.get(peerId)
    const peer: TrustedPeer = {
      peerId,
      ...((options.name ?? previous?.name) != null && { name: options.name ?? previous?.name }),
      groups: options.groups ?? previous?.groups ?? []
    }
    this.peers.set(peerId, peer)
    await this.save()
    this.changed({ peer: peerId, change: previous == null ? 'added' : 'updated', ...(peer.name != null && { name: peer.name }), groups: peer.groups })
    return peer
  }

  async remove (peerId: string): Promise<boolean> {
    const removed = this.peers.delete(peerId)
    if (removed) {
      await this.save()
      this.changed({ peer: peerId, change: 'removed' })
    }
    return removed
  }

  private changed (change: TrustChange): void {
    for (const listener of this.listeners) listener(change)
  }

  private async save (): Promise<void> {
    await writeJsonFile(this.file, this.list())
  }
}
