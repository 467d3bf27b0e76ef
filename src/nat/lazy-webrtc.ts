import { serviceCapabilities, serviceDependencies, transportSymbol, TypedEventEmitter } from '@libp2p/interface'
import { CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import { P2P, WebRTC } from '@multiformats/multiaddr-matcher'
import { code, fmt } from '@multiformats/multiaddr-matcher/utils'
import type { Connection, CreateListenerOptions, DialTransportOptions, Libp2pEvents, Listener, ListenerEvents, Startable, Stream, Transport, TypedEventTarget } from '@libp2p/interface'
import type { TransportManager } from '@libp2p/interface-internal'
import type { WebRTCTransportComponents, WebRTCTransportInit } from '@libp2p/webrtc'
import type { Multiaddr } from '@multiformats/multiaddr'

/** @libp2p/webrtc's private-to-private signalling protocol, which a node behind NAT must answer from the start */
export const WEBRTC_SIGNALING_PROTOCOL = '/webrtc-signaling/0.0.1'
const RelayedAddress = fmt(P2P.matchers[0], code(CODE_P2P_CIRCUIT))

type LoadedTransport = Transport & Startable

/**
 * The private-to-private WebRTC transport, loaded the first time a direct path needs it:
 * when this node dials a peer's `/webrtc` address to punch a hole, or a peer opens the
 * signalling protocol to punch one to this node. @libp2p/webrtc and its native
 * libdatachannel cost a daemon about 15 MiB of RSS from the moment they are imported,
 * and a node that never hole-punches (a relay, a public node, a LAN mesh) never needs
 * them. Until then this stands in for it with the same face: it answers the signalling
 * protocol (so identify advertises it), filters `/webrtc` addresses and lists this node's
 * relayed addresses with `/webrtc` appended, as @libp2p/webrtc's listener does.
 */
export function lazyWebRTC (init: WebRTCTransportInit): (components: WebRTCTransportComponents) => LoadedTransport {
  return components => new LazyWebRTC(components, init)
}

class LazyWebRTC implements LoadedTransport {
  readonly [transportSymbol] = true
  readonly [Symbol.toStringTag] = '@libp2p/webrtc'
  readonly [serviceCapabilities] = ['@libp2p/transport']
  readonly [serviceDependencies] = ['@libp2p/identify', '@libp2p/circuit-relay-v2-transport']
  private readonly components: WebRTCTransportComponents
  private readonly init: WebRTCTransportInit
  private transport?: Promise<LoadedTransport>
  private readonly listeners = new Set<LazyListener>()

  constructor (components: WebRTCTransportComponents, init: WebRTCTransportInit) {
    this.components = components
    this.init = init
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(WEBRTC_SIGNALING_PROTOCOL, (stream, connection) => { this.onSignalling(stream, connection) }, { runOnLimitedConnection: true })
  }

  async stop (): Promise<void> {
    // a transport that failed to load was reported to whoever needed it; this stand-in's handler is still the registered one
    const transport = await this.transport?.catch(() => undefined)
    if (transport == null) {
      await this.components.registrar.unhandle(WEBRTC_SIGNALING_PROTOCOL)
      return
    }
    await transport.stop()
  }

  async dial (ma: Multiaddr, options: DialTransportOptions): Promise<Connection> {
    return (await this.load()).dial(ma, options)
  }

  createListener (options: CreateListenerOptions): Listener {
    const listener = new LazyListener(this.components, options, this.listeners)
    this.listeners.add(listener)
    void this.transport?.then(transport => { listener.attach(transport) })
    return listener
  }

  listenFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return multiaddrs.filter(ma => WebRTC.exactMatch(ma))
  }

  dialFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return this.listenFilter(multiaddrs)
  }

  /** The stream is handed, once the transport has started, to the handler it registered. */
  private onSignalling (stream: Stream, connection: Connection): void {
    this.load()
      .then(async () => { await this.components.registrar.getHandler(WEBRTC_SIGNALING_PROTOCOL).handler(stream, connection) })
      .catch(err => { stream.abort(err) })
  }

  private async load (): Promise<LoadedTransport> {
    this.transport ??= (async () => {
      const { webRTC } = await import('@libp2p/webrtc')
      const transport = webRTC(this.init)(this.components) as LoadedTransport
      // the real handler replaces this one; streams that arrived meanwhile wait for it in onSignalling
      await this.components.registrar.unhandle(WEBRTC_SIGNALING_PROTOCOL)
      await transport.start()
      for (const listener of this.listeners) listener.attach(transport)
      return transport
    })()
    return this.transport
  }
}

/** @libp2p/webrtc's listener: `/webrtc` on each relayed address this node listens on; closing it closes the loaded transport's too. */
class LazyListener extends TypedEventEmitter<ListenerEvents> implements Listener {
  private readonly options: CreateListenerOptions
  private readonly transportManager: TransportManager
  private readonly events: TypedEventTarget<Libp2pEvents>
  private readonly siblings: Set<LazyListener>
  private loaded?: Listener

  constructor (components: { transportManager: TransportManager, events: TypedEventTarget<Libp2pEvents> }, options: CreateListenerOptions, siblings: Set<LazyListener>) {
    super()
    this.options = options
    this.transportManager = components.transportManager
    this.events = components.events
    this.siblings = siblings
    this.onTransportListening = this.onTransportListening.bind(this)
  }

  /** The loaded transport's own listener, made only to be closed with this one: that ends the WebRTC connections it made. */
  attach (transport: Transport): void {
    this.loaded ??= transport.createListener(this.options)
  }

  async listen (): Promise<void> {
    this.events.addEventListener('transport:listening', this.onTransportListening)
  }

  getAddrs (): Multiaddr[] {
    return this.transportManager.getListeners()
      .filter(listener => !(listener instanceof LazyListener))
      .flatMap(listener => listener.getAddrs().filter(ma => RelayedAddress.exactMatch(ma)).map(ma => ma.encapsulate('/webrtc')))
  }

  updateAnnounceAddrs (): void {}

  async close (): Promise<void> {
    this.events.removeEventListener('transport:listening', this.onTransportListening)
    this.siblings.delete(this)
    await this.loaded?.close()
    queueMicrotask(() => { this.safeDispatchEvent('close') })
  }

  private onTransportListening (event: CustomEvent<Listener>): void {
    if (event.detail.getAddrs().some(ma => RelayedAddress.exactMatch(ma))) this.safeDispatchEvent('listening')
  }
}
