/**
 * A Debian nginx of its own for a test: a temporary prefix and config, one
 * process in the foreground (`daemon off`, `master_process off`, so stopping
 * it is a kill by pid), its error log and access log in the prefix. It
 * listens on 127.0.0.1 twice, on free high ports: `port` expects a PROXY
 * protocol header (`listen ... proxy_protocol`), `plainPort` does not. Every
 * request is answered 200 with NGINX_BODY and logged as one line:
 *
 *   $proxy_protocol_addr $remote_addr "$request" $proxy_protocol_port
 *   $proxy_protocol_server_addr $proxy_protocol_server_port $server_port
 *
 * (the first three are the `pp` format of the tests' contract; nginx writes
 * `-` for an empty variable, e.g. the PROXY fields on the plain listener).
 */

import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, tempDir } from '../daemon.ts'
import { missingTool, toolPath } from './tools.ts'
import type { ChildProcess } from 'node:child_process'

/** What nginx answers to every request. */
export const NGINX_BODY = 'agentmesh nginx\n'

/** Why the nginx tests cannot run here, or false when they can. */
export function nginxMissing (): string | false {
  const nginx = toolPath('nginx')
  if (nginx == null) return missingTool('nginx', 'nginx')
  const version = spawnSync(nginx, ['-v'], { encoding: 'utf8', timeout: 10_000 })
  if (version.error !== undefined || version.status !== 0) return `${nginx} -v failed: ${version.error?.message ?? version.stderr.trim()}`
  return false
}

/** One line of the access log. `undefined` where nginx logged `-`. */
export interface NginxAccess {
  proxyProtocolAddr?: string
  remoteAddr: string
  request: string
  proxyProtocolPort?: number
  proxyProtocolServerAddr?: string
  proxyProtocolServerPort?: number
  /** the listener's port: `port` or `plainPort` */
  serverPort: number
}

export interface Nginx {
  readonly process: ChildProcess
  /** the listener that expects a PROXY protocol header */
  readonly port: number
  /** `127.0.0.1:<port>`, the form `agentmesh expose` takes */
  readonly target: string
  /** a listener without PROXY protocol */
  readonly plainPort: number
  readonly plainTarget: string
  readonly dir: string
  /** the access log so far, parsed */
  accessLog(): Promise<NginxAccess[]>
  /** the error log so far (where nginx says why it refused a header) */
  errorLog(): Promise<string>
  stop(): Promise<void>
}

const ACCESS_LINE = /^(\S+) (\S+) "(.*)" (\S+) (\S+) (\S+) (\d+)$/

function dash (value: string): string | undefined {
  return value === '-' || value === '' ? undefined : value
}

export function parseAccessLine (line: string): NginxAccess {
  const match = ACCESS_LINE.exec(line)
  if (match == null) throw new Error(`not an access log line of the test format: ${JSON.stringify(line)}`)
  const [, ppAddr, remoteAddr, request, ppPort, ppServerAddr, ppServerPort, serverPort] = match
  const port = (value: string): number | undefined => dash(value) == null ? undefined : Number(value)
  return {
    proxyProtocolAddr: dash(ppAddr),
    remoteAddr,
    request,
    proxyProtocolPort: port(ppPort),
    proxyProtocolServerAddr: dash(ppServerAddr),
    proxyProtocolServerPort: port(ppServerPort),
    serverPort: Number(serverPort)
  }
}

export async function startNginx (): Promise<Nginx> {
  const nginx = toolPath('nginx')
  if (nginx == null) throw new Error('nginx is not installed')
  const dir = await tempDir('agentmesh-nginx-')
  const [port, plainPort] = [await freePort(), await freePort()]
  const accessLogPath = join(dir, 'access.log')
  const errorLogPath = join(dir, 'error.log')
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, 'temp', sub), { recursive: true })
  const config = join(dir, 'nginx.conf')
  await writeFile(config, [
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${errorLogPath} info;`,
    'events { worker_connections 256; }',
    'http {',
    "  log_format pp '$proxy_protocol_addr $remote_addr \"$request\" $proxy_protocol_port $proxy_protocol_server_addr $proxy_protocol_server_port $server_port';",
    `  access_log ${accessLogPath} pp;`,
    `  client_body_temp_path ${join(dir, 'temp', 'body')};`,
    `  proxy_temp_path ${join(dir, 'temp', 'proxy')};`,
    `  fastcgi_temp_path ${join(dir, 'temp', 'fastcgi')};`,
    `  uwsgi_temp_path ${join(dir, 'temp', 'uwsgi')};`,
    `  scgi_temp_path ${join(dir, 'temp', 'scgi')};`,
    '  keepalive_timeout 5s;',
    '  server {',
    `    listen 127.0.0.1:${port} proxy_protocol;`,
    `    listen 127.0.0.1:${plainPort};`,
    '    location / {',
    '      default_type text/plain;',
    '      return 200 "agentmesh nginx\\n";',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n'))
  // -e: the error log before the config is read (the default, stderr here, is fine too, but keep it in one place)
  const child = spawn(nginx, ['-p', `${dir}/`, '-c', config, '-e', errorLogPath], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', chunk => { stderr += chunk })
  const exited = once(child, 'exit')
  const errorLog = async (): Promise<string> => {
    try {
      return await readFile(errorLogPath, 'utf8')
    } catch {
      return ''
    }
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null && child.pid != null) {
      try { process.kill(child.pid, 'SIGTERM') } catch {}
      const timer = setTimeout(() => { try { process.kill(child.pid as number, 'SIGKILL') } catch {} }, 5_000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (const listener of [plainPort, port]) {
      await waitForListener(listener, async () => child.exitCode != null ? `nginx exited ${child.exitCode}: ${stderr}${await errorLog()}` : undefined)
    }
  } catch (err) {
    await stop()
    throw err
  }
  return {
    process: child,
    port,
    target: `127.0.0.1:${port}`,
    plainPort,
    plainTarget: `127.0.0.1:${plainPort}`,
    dir,
    async accessLog () {
      let text = ''
      try {
        text = await readFile(accessLogPath, 'utf8')
      } catch {}
      return text.split('\n').filter(line => line !== '').map(parseAccessLine)
    },
    errorLog,
    stop
  }
}

/** Waits (at most 10 s) until 127.0.0.1:port accepts a connection, which it closes at once without a byte (nginx logs no request for it). */
async function waitForListener (port: number, dead: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + 10_000
  let last = ''
  while (Date.now() < deadline) {
    const why = await dead()
    if (why != null) throw new Error(why)
    const up = await new Promise<boolean>(resolve => {
      const socket = connect({ host: '127.0.0.1', port })
      socket.setTimeout(1_000, () => { socket.destroy(); resolve(false) })
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', err => { last = err.message; socket.destroy(); resolve(false) })
    })
    if (up) return
    await sleep(100)
  }
  throw new Error(`nginx on 127.0.0.1:${port} did not accept a connection within 10 s${last === '' ? '' : `: ${last}`}`)
}
