/**
 * Bad input at `expose --a2a` / `--mcp`: a card too large, malformed, off A2A's schema or
 * hostile, a redirect, a service that answers something else, one that never answers,
 * and nothing listening. Each is refused with one line on stderr and exit status 1, and
 * nothing is stored: `services` stays as it was. Then a card of A2A 0.3's shape is
 * accepted, and the card rewriting of both revisions is checked on its own.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { rewriteAgentCard } from '../../src/agents/agent-card.ts'
import { cliJson, freePort, TestDaemon } from '../helpers/daemon.ts'
import { oneLine, run } from '../helpers/membership.ts'
import { startCardServer, startSilentServer } from '../helpers/services/agents.ts'
import type { AgentServer } from '../helpers/services/agents.ts'
import type { ServiceView } from '../../src/control/api.ts'

/** A card with every field A2A requires, and `over` on top. */
function card (over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Agent',
    description: 'd',
    version: '1',
    capabilities: {},
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [{ id: 'translate', name: 'Translate', description: 'd', tags: ['language'] }],
    supportedInterfaces: [{ url: 'http://127.0.0.1:1/rpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
    ...over
  }
}

describe('expose --a2a and --mcp refuse bad agents, storing nothing', () => {
  let daemon: TestDaemon
  const servers: AgentServer[] = []

  before(async () => {
    daemon = await TestDaemon.start()
  })

  after(async () => {
    await daemon?.destroy()
    await Promise.all(servers.map(async server => server.close()))
  })

  async function refused (args: string[], reason: RegExp): Promise<void> {
    const result = await run(daemon, args)
    assert.equal(result.code, 1, `${args.join(' ')}: exit status 1 (${result.stderr})`)
    assert.equal(result.stdout, '')
    assert.match(oneLine(result), reason)
    assert.deepEqual(await cliJson(daemon.dataDir, ['services']), [], 'nothing stored')
  }

  async function serving (body: string | Buffer, status = 200, headers: Record<string, string> = {}): Promise<string> {
    const server = await startCardServer(() => ({ status, body, headers }))
    servers.push(server)
    return server.target
  }

  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['a card over 256 KiB', async () => serving(JSON.stringify(card({ description: 'x'.repeat(300 * 1024) }))), /answered with more than 262144 bytes/],
    ['a card that is not JSON', async () => serving('{"name": "Agent",'), /is not JSON/],
    ['a card without its skills\' tags', async () => serving(JSON.stringify(card({ skills: [{ id: 'translate', name: 'T', description: 'd' }] }))), /not a valid A2A agent card: skills\[0\]\.tags: /],
    ['a card with neither interfaces nor url', async () => serving(JSON.stringify(card({ supportedInterfaces: undefined }))), /supportedInterfaces: missing/],
    ['a card whose name carries terminal escapes', async () => serving(JSON.stringify(card({ name: 'Agent\u001b[2J\u001b[31m' }))), /name: has control characters/],
    ['a card whose interface is a javascript: URL', async () => serving(JSON.stringify(card({ supportedInterfaces: [{ url: 'javascript:alert(1)', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }] }))), /supportedInterfaces\[0\]\.url: expected an absolute http or https URL/],
    ['a card with a 200-character skill id', async () => serving(JSON.stringify(card({ skills: [{ id: 'x'.repeat(200), name: 'T', description: 'd', tags: [] }] }))), /skill id .* at most 128/],
    ['a card with 65 skills', async () => serving(JSON.stringify(card({ skills: Array.from({ length: 65 }, (_, i) => ({ id: `s${i}`, name: 'S', description: 'd', tags: [] })) }))), /cannot be published: .*65 skills or tools; at most 64/],
    ['a redirect elsewhere', async () => serving('', 302, { location: 'http://203.0.113.9/card.json' }), /answered with a redirect \(302 to http:\/\/203\.0\.113\.9\/card\.json\): only the service's own address is read/],
    ['a service that is not an agent', async () => serving('not found', 404), /answered 404 Not Found: is this an A2A agent\?/]
  ]
  for (const [what, start, reason] of cases) {
    it(`refuses ${what}`, async () => {
      await refused(['expose', 'agent', await start(), '--a2a'], reason)
    })
  }

  it('refuses a service that never answers (5 s), and an address nothing listens on', async () => {
    const silent = await startSilentServer()
    servers.push(silent)
    const started = Date.now()
    await refused(['expose', 'agent', silent.target, '--a2a'], /the agent card at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/agent-card\.json did not answer in time/)
    assert.ok(Date.now() - started < 10_000, 'within the read timeout')
    assert.ok(silent.connections >= 1, 'it was asked')
    await refused(['expose', 'agent', `127.0.0.1:${await freePort()}`, '--a2a'], /cannot be read: ECONNREFUSED/)
    await refused(['expose', 'tools', `127.0.0.1:${await freePort()}`, '--mcp'], /the MCP server at http:\/\/127\.0\.0\.1:\d+\/mcp cannot be read: ECONNREFUSED/)
  })

  it('refuses --mcp on a service that does not speak MCP, and bad flags before reading anything', async () => {
    await refused(['expose', 'tools', await serving('{"error":"no"}', 404), '--mcp'], /the MCP server at http:\/\/127\.0\.0\.1:\d+\/mcp/)
    await refused(['expose', 'tools', '127.0.0.1:1', '--mcp', '--mcp-path', 'mcp'], /--mcp-path mcp: expected an absolute URL path/)
    const both = await run(daemon, ['expose', 'x', '127.0.0.1:1', '--a2a', '--mcp'])
    assert.equal(both.code, 2)
  })

  it('accepts a card of A2A 0.3\'s shape (url, preferredTransport, additionalInterfaces)', async () => {
    const legacy = card({ supportedInterfaces: undefined, url: 'http://127.0.0.1:1/rpc', preferredTransport: 'JSONRPC', protocolVersion: '0.3.0' })
    const view = await cliJson<ServiceView>(daemon.dataDir, ['expose', 'legacy', await serving(JSON.stringify(legacy)), '--a2a'])
    assert.deepEqual(view.agent, { kind: 'a2a', title: 'Agent', path: '/', skills: [{ id: 'translate', tags: ['language'] }] })
    await run(daemon, ['unexpose', 'legacy'])
  })
})

describe('the agent card as a caller through a forward sees it', () => {
  it('A2A 1.0: HTTP interfaces move to the caller\'s origin, path and query kept; gRPC is left out; other fields untouched', () => {
    const rewritten = rewriteAgentCard(card({
      supportedInterfaces: [
        { url: 'https://agent.example.com/a2a/v1?x=1', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
        { url: 'http://10.0.0.5:9000/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
        { url: 'agent.example.com:443', protocolBinding: 'GRPC', protocolVersion: '1.0' }
      ],
      documentationUrl: 'https://agent.example.com/docs'
    }), 'http://127.0.0.1:41234')
    assert.deepEqual(rewritten.supportedInterfaces, [
      { url: 'http://127.0.0.1:41234/a2a/v1?x=1', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: 'http://127.0.0.1:41234/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' }
    ])
    assert.equal(rewritten.documentationUrl, 'https://agent.example.com/docs')
    assert.deepEqual(rewritten.skills, card().skills)
  })

  it('A2A 0.3: url and additionalInterfaces', () => {
    const rewritten = rewriteAgentCard(card({
      supportedInterfaces: undefined,
      url: 'http://localhost:9000/',
      additionalInterfaces: [{ url: 'http://localhost:9000/', transport: 'JSONRPC' }, { url: 'localhost:50051', transport: 'GRPC' }]
    }), 'http://127.0.0.1:41234')
    assert.equal(rewritten.url, 'http://127.0.0.1:41234/')
    assert.deepEqual(rewritten.additionalInterfaces, [{ url: 'http://127.0.0.1:41234/', transport: 'JSONRPC' }])
  })
})
