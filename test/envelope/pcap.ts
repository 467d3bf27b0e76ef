/**
 * A minimal pcap writer (the classic libpcap format, linktype 1 Ethernet),
 * enough to hand UDP datagrams to tshark.
 */
import { concat } from 'uint8arrays/concat'

const PCAP_MAGIC = 0xa1b2c3d4
const LINKTYPE_ETHERNET = 1
const ETHERTYPE_IPV4 = 0x0800
const IPPROTO_UDP = 17
const ETHERNET_BYTES = 14
const IPV4_BYTES = 20
const UDP_BYTES = 8

export interface Datagram {
  /** IPv4 addresses as four octets. */
  source: readonly number[]
  destination: readonly number[]
  sourcePort: number
  destinationPort: number
  payload: Uint8Array
}

export function pcapFile (datagrams: readonly Datagram[]): Uint8Array {
  const header = new Uint8Array(24)
  const view = new DataView(header.buffer)
  view.setUint32(0, PCAP_MAGIC, true)
  view.setUint16(4, 2, true) // version 2.4
  view.setUint16(6, 4, true)
  view.setUint32(16, 65_535, true) // snaplen
  view.setUint32(20, LINKTYPE_ETHERNET, true)
  const records = datagrams.map((datagram, index) => record(ethernetFrame(datagram), index))
  return concat([header, ...records])
}

function record (frame: Uint8Array, index: number): Uint8Array {
  const header = new Uint8Array(16)
  const view = new DataView(header.buffer)
  view.setUint32(0, 1_700_000_000 + index, true) // seconds
  view.setUint32(8, frame.length, true) // captured length
  view.setUint32(12, frame.length, true) // original length
  return concat([header, frame])
}

function ethernetFrame ({ source, destination, sourcePort, destinationPort, payload }: Datagram): Uint8Array {
  const frame = new Uint8Array(ETHERNET_BYTES + IPV4_BYTES + UDP_BYTES + payload.length)
  const view = new DataView(frame.buffer)
  // locally administered MAC addresses 02:00:00:00:00:01 -> 02:00:00:00:00:02
  frame.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01])
  view.setUint16(12, ETHERTYPE_IPV4)

  const ip = ETHERNET_BYTES
  frame[ip] = 0x45 // IPv4, 5-word header
  view.setUint16(ip + 2, IPV4_BYTES + UDP_BYTES + payload.length)
  frame[ip + 8] = 64 // TTL
  frame[ip + 9] = IPPROTO_UDP
  frame.set(source, ip + 12)
  frame.set(destination, ip + 16)
  view.setUint16(ip + 10, ipv4Checksum(frame.subarray(ip, ip + IPV4_BYTES)))

  const udp = ip + IPV4_BYTES
  view.setUint16(udp, sourcePort)
  view.setUint16(udp + 2, destinationPort)
  view.setUint16(udp + 4, UDP_BYTES + payload.length)
  // UDP checksum 0: none, allowed over IPv4
  frame.set(payload, udp + UDP_BYTES)
  return frame
}

function ipv4Checksum (header: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < header.length; i += 2) {
    sum += (header[i] << 8) | header[i + 1]
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >>> 16)
  }
  return ~sum & 0xffff
}
