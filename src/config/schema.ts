import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { parseHostPort } from '../addresses/host-port.ts'

function isMultiaddr (value: string): boolean {
  try {
    multiaddr(value)
    return true
  } catch {
    return false
  }
}

const address = z.string().refine(isMultiaddr, 'expected a multiaddr such as /ip4/127.0.0.1/tcp/4733')
const bootstrapAddress = address.refine(value => value.includes('/p2p/'), 'expected a multiaddr that ends in /p2p/<peer id>')
const seconds = z.number().positive()

function isHostPort (value: string): boolean {
  try {
    parseHostPort(value, { allowZero: true })
    return true
  } catch {
    return false
  }
}

const LOOPBACK_HOSTS = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/
const hostPort = z.string().refine(isHostPort, 'expected host:port such as 127.0.0.1:9464')
const loopbackHostPort = hostPort.refine(value => isHostPort(value) && LOOPBACK_HOSTS.test(parseHostPort(value, { allowZero: true }).host), 'expected a loopback host:port such as 127.0.0.1:0')
const webhookUrl = z.string().refine(value => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'expected an http:// or https:// URL')

/** Every key of the configuration; `config/default.json` holds the defaults. */
export const configSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected 1-63 lowercase letters, digits or dashes').nullable(),
  listen: z.array(address).min(1, 'expected at least one listen address'),
  announce: z.array(address),
  bootstrap: z.array(bootstrapAddress),
  dht: z.strictObject({
    mode: z.enum(['auto', 'server', 'client'])
  }),
  discovery: z.strictObject({
    walkIntervalSeconds: seconds,
    bootstrapRedialSeconds: seconds
  }),
  connections: z.strictObject({
    max: z.number().int().min(1),
    inboundPerSecondPerHost: z.number().int().min(1),
    maxIncomingPending: z.number().int().min(1),
    maxIncomingPendingPerHost: z.number().int().min(1),
    handshakeTimeoutSeconds: seconds,
    dialTimeoutSeconds: seconds,
    encryption: z.array(z.enum(['tls', 'noise'])).min(1, 'expected at least one of tls, noise')
      .refine(list => new Set(list).size === list.length, 'expected each of tls, noise at most once')
  }),
  relay: z.strictObject({
    enabled: z.boolean(),
    maxReservations: z.number().int().min(1),
    reservedForTrusted: z.number().int().min(0),
    maxReservationsPerIp: z.number().int().min(1),
    untrusted: z.enum(['limited', 'deny']),
    untrustedDurationSeconds: seconds,
    untrustedDataBytes: z.number().int().min(1),
    stun: z.boolean()
  }),
  nat: z.strictObject({
    reservations: z.number().int().min(0),
    holePunching: z.boolean(),
    iceServers: z.array(z.string().regex(/^(stun|turns?):/, 'expected an ICE server URL such as stun:host:3478'))
  }),
  tunnels: z.strictObject({
    maxPerPeer: z.number().int().min(1),
    maxTotal: z.number().int().min(1),
    reservedForOthers: z.number().int().min(0),
    maxBufferedBytes: z.number().int().min(1024 * 1024),
    maxBufferedBytesPerPeer: z.number().int().min(1024 * 1024),
    halfClosedIdleSeconds: seconds,
    stalledSeconds: seconds
  }),
  metrics: z.strictObject({
    listen: hostPort.nullable()
  }),
  events: z.strictObject({
    webhook: webhookUrl.nullable(),
    webhookRetries: z.number().int().min(0).max(20),
    webhookQueue: z.number().int().min(1)
  }),
  ui: z.strictObject({
    listen: loopbackHostPort
  }),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    format: z.enum(['auto', 'pretty', 'json']),
    repeatBurst: z.number().int().min(1),
    repeatWindowSeconds: seconds
  })
})

export type Config = z.infer<typeof configSchema>
