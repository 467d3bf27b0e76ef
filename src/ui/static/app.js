// The agentmesh dashboard: renders the snapshots and events the daemon streams over
// server-sent events (/api/stream). Read-only; every value is set as text, never as HTML.
'use strict'

const SVG = 'http://www.w3.org/2000/svg'
const MAX_EVENTS = 100
const $ = id => document.getElementById(id)
let previous = null
let lastSeq = 0

function el (tag, attrs = {}, text) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value)
  if (text != null) node.textContent = text
  return node
}

function svg (tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value))
  if (text != null) node.textContent = text
  return node
}

const short = id => id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
const label = peer => peer.name ?? short(peer.peerId)

function bytes (n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`
}

function rate (now, before, seconds) {
  if (before == null || seconds <= 0) return '-'
  return `${bytes(Math.max(0, now - before) / seconds)}/s`
}

function failures (map) {
  const entries = Object.entries(map ?? {})
  return entries.length === 0 ? '' : entries.map(([kind, n]) => `${kind} ${n}`).join(', ')
}

function row (cells, attrs = {}) {
  const tr = el('tr', attrs)
  for (const cell of cells) {
    const [text, cls] = Array.isArray(cell) ? cell : [cell, '']
    const td = el('td', cls ? { class: cls } : {})
    if (text instanceof Node) td.append(text)
    else td.textContent = String(text)
    tr.append(td)
  }
  return tr
}

function fill (table, rows, columns, empty) {
  const body = $(table).tBodies[0]
  body.replaceChildren(...(rows.length > 0 ? rows : [row([[empty, 'empty']])]))
  if (rows.length === 0) body.rows[0].cells[0].colSpan = columns
}

function renderNode (node, names) {
  $('node-name').textContent = node.name ?? ''
  $('node-id').textContent = node.peerId
  const reach = $('node-reachability')
  reach.textContent = node.reachability
  reach.className = `badge ${node.reachability}`
  $('node-relays').textContent = node.relays.length === 0 ? 'none' : node.relays.map(relay => names.get(relay) ?? short(relay)).join(', ')
  $('node-relay-service').textContent = node.relayService == null ? 'not a relay' : `relay: ${node.relayService.reservations} reservations${node.relayService.stun.length > 0 ? `, STUN ${node.relayService.stun.join(' ')}` : ''}`
  $('node-addresses').textContent = node.addresses.join('\n')
  $('node-version').textContent = `${node.version}, up ${Math.floor(node.uptimeSeconds / 3600)}h ${Math.floor(node.uptimeSeconds / 60) % 60}m ${node.uptimeSeconds % 60}s, ${node.peers} connected, ${node.knownPeers} known`
}

function renderGraph (node, peers) {
  const graph = $('graph')
  const width = 520, height = 340, cx = width / 2, cy = height / 2
  // each relayed peer sits next to its relay, so that its edge bends through it
  const relayed = peers.filter(peer => peer.connection === 'relayed' && peer.relay != null && peers.some(other => other.peerId === peer.relay))
  const ordered = []
  for (const peer of peers) {
    if (relayed.includes(peer)) continue
    ordered.push(peer, ...relayed.filter(other => other.relay === peer.peerId))
  }
  const shown = ordered.slice(0, 24)
  const radius = Math.min(cx, cy) - 36
  const position = new Map()
  shown.forEach((peer, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(shown.length, 1)
    position.set(peer.peerId, { x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle) })
  })
  const edges = svg('g')
  const nodes = svg('g')
  for (const peer of shown) {
    const { x, y } = position.get(peer.peerId)
    const kind = peer.connection ?? 'none'
    const relay = peer.relay != null ? position.get(peer.relay) : undefined
    // a relayed edge bends through its relay when the relay is drawn too
    const edge = kind === 'relayed' && relay != null
      ? svg('path', { d: `M ${cx} ${cy} Q ${relay.x} ${relay.y} ${x} ${y}`, class: 'relayed', 'data-peer': peer.peerId })
      : svg('line', { x1: cx, y1: cy, x2: x, y2: y, class: kind, 'data-peer': peer.peerId })
    edges.append(edge)
    nodes.append(svg('circle', { cx: x, cy: y, r: 11, class: `peer-${kind}` }))
    const title = svg('title', {}, `${peer.peerId}\n${kind}${peer.transport ? ` (${peer.transport})` : ''}${peer.rttMs != null ? `, ${peer.rttMs} ms` : ''}`)
    nodes.lastChild.append(title)
    nodes.append(svg('text', { x, y: y + (y >= cy ? 26 : -16) }, label(peer)))
  }
  nodes.append(svg('circle', { cx, cy, r: 15, class: 'self' }))
  nodes.append(svg('text', { x: cx, y: cy + 31 }, node.name ?? `${short(node.peerId)} (this node)`))
  if (peers.length > shown.length) nodes.append(svg('text', { x: width - 60, y: height - 8 }, `+${peers.length - shown.length} more`))
  graph.replaceChildren(edges, nodes)
}

function renderPeers (peers) {
  fill('peers', peers.map(peer => {
    const path = el('span', { class: `badge ${peer.connection ?? ''}` }, peer.connection ?? 'not connected')
    return row([
      [label(peer), 'mono'],
      [path, 'path'],
      [peer.transport ?? '-', 'transport'],
      [peer.rttMs != null ? `${peer.rttMs} ms` : '-', 'num rtt'],
      [peer.encryption ?? '-', 'encryption'],
      [peer.muxer ?? '-', 'muxer'],
      [peer.trusted ? 'yes' : 'no', 'trusted']
    ], { 'data-peer': peer.peerId, title: peer.peerId })
  }), 7, 'no peers yet')
}

function renderCounters (table, items, key, before, seconds, first) {
  const old = new Map((before ?? []).map(item => [item[key], item]))
  fill(table, items.map(item => {
    const prev = old.get(item[key])
    return row([
      ...first(item),
      [item.active, 'num active'],
      [item.connections, 'num connections'],
      [bytes(item.bytesIn), 'num bytes-in'],
      [bytes(item.bytesOut), 'num bytes-out'],
      [rate(item.bytesIn, prev?.bytesIn, seconds), 'num rate-in'],
      [rate(item.bytesOut, prev?.bytesOut, seconds), 'num rate-out'],
      [failures(item.failures), 'failures']
    ], { [`data-${key}`]: item[key], 'data-bytes-in': item.bytesIn, 'data-bytes-out': item.bytesOut })
  }), table === 'forwards' ? 9 : 10, table === 'forwards' ? 'no forwards' : 'no services exposed')
}

function render (snapshot) {
  const seconds = previous == null ? 0 : (snapshot.time - previous.time) / 1000
  const names = new Map(snapshot.peers.filter(peer => peer.name != null).map(peer => [peer.peerId, peer.name]))
  renderNode(snapshot.node, names)
  renderGraph(snapshot.node, snapshot.peers)
  renderPeers(snapshot.peers)
  renderCounters('forwards', snapshot.forwards, 'listen', previous?.forwards, seconds, item => [
    [item.listen, 'mono'], [`${names.get(item.peer) ?? short(item.peer)}/${item.service}`, 'mono']
  ])
  renderCounters('services', snapshot.services, 'name', previous?.services, seconds, item => [
    [item.name, 'mono'], [item.target, 'mono'], item.proto
  ])
  previous = snapshot
}

function addEvent (event) {
  const { seq, time, type, ...fields } = event
  // a reconnected stream sends the recent events again
  if (seq <= lastSeq) return
  lastSeq = seq
  const text = Object.entries(fields).map(([key, value]) =>
    `${key}=${typeof value === 'object' && value != null ? Object.values(value).join('/') : value}`).join(' ')
  const item = el('li', { 'data-type': type, 'data-seq': seq })
  item.append(el('span', { class: 'time' }, new Date(time).toLocaleTimeString('en-GB')), el('span', { class: 'type' }, type), el('span', { class: 'fields' }, text))
  const list = $('events')
  list.prepend(item)
  while (list.children.length > MAX_EVENTS) list.lastChild.remove()
}

function connect () {
  const live = $('live')
  const source = new EventSource('/api/stream')
  source.addEventListener('open', () => { live.textContent = 'live'; live.className = 'badge on' })
  source.addEventListener('error', () => { live.textContent = 'reconnecting'; live.className = 'badge off' })
  source.addEventListener('snapshot', message => { render(JSON.parse(message.data)) })
  source.addEventListener('mesh', message => { addEvent(JSON.parse(message.data)) })
}

connect()
