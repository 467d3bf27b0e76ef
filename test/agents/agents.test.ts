/**
 * Agents found by what they can do, as users drive it: a real A2A agent (`@a2a-js/sdk`)
 * and a real MCP server (`@modelcontextprotocol/sdk`, Streamable HTTP) exposed with
 * `--a2a` and `--mcp` on one member; another member finds them with `find --skill` and
 * `find --tool`, gets a local URL with `connect`, and the SDKs' own clients talk to them
 * through the mesh. The agents see who calls in headers the exposing node sets (forged
 * ones stripped). Finding is filtered by trust: a revoked member's capability record,
 * a non-member's provider records and another network's agents are never returned.
 *
 * Built in the order a user can act: daemons start (bootstrapped from the admin's node),
 * ids are read, the admin creates the network and invites each member, each joins; then
 * the agents start and are exposed.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { ClientFactory } from '@a2a-js/sdk/client'
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { capabilityProvidersCid } from '../../protocols/records/index.ts'
import { cliJson, TestDaemon, waitFor } from '../helpers/daemon.ts'
import { enrol } from '../helpers/membership.ts'
import { startInProcessNode } from '../helpers/mesh-node.ts'
import { startA2aAgent, startMcpServer } from '../helpers/services/agents.ts'
import { agentmesh } from '../helpers/services/mesh.ts'
import type { AgentServer } from '../helpers/services/agents.ts'
import type { InProcessNode } from '../helpers/mesh-node.ts'
import type { ConnectView, FoundAgent, NetworkView } from '../../src/control/api.ts'

const published = (daemon: TestDaemon, service: string): boolean =>
  daemon.stderr.split('\n').some(line => line.includes('capability record published') && line.includes(`${service} (`))

describe('agents found by skill and tool, reached through automatic forwards', () => {
  const daemons: Record<string, TestDaemon> = {}
  const ids: Record<string, string> = {}
  const agents: AgentServer[] = []
  let translator: AgentServer, tools: AgentServer, mallorysAgent: AgentServer
  let hostile: InProcessNode | undefined

  before(async () => {
    daemons.provider = await TestDaemon.start()
    const bootstrap = (await daemons.provider.id()).addresses
    for (const name of ['alice', 'mallory', 'outsider']) daemons[name] = await TestDaemon.start({ bootstrap })
    for (const [name, daemon] of Object.entries(daemons)) ids[name] = (await daemon.id()).peerId
    await agentmesh(daemons.provider, ['network', 'init', 'fleet', '--member-name', 'provider'])
    await enrol(daemons.provider, daemons.alice, 'alice', ['--groups', 'ops,dev'])
    await enrol(daemons.provider, daemons.mallory, 'mallory')
    // a node that is in no network of ours: its own network, of the same name
    await agentmesh(daemons.outsider, ['network', 'init', 'fleet'])
    translator = await startA2aAgent('Translator')
    tools = await startMcpServer()
    mallorysAgent = await startA2aAgent('Mallory\'s translator')
    const outsidersAgent = await startA2aAgent('Outsider\'s translator')
    agents.push(translator, tools, mallorysAgent, outsidersAgent)
    await agentmesh(daemons.provider, ['expose', 'translator', translator.target, '--a2a'])
    await agentmesh(daemons.provider, ['expose', 'tools', tools.target, '--mcp'])
    await agentmesh(daemons.mallory, ['expose', 'translator', mallorysAgent.target, '--a2a'])
    await agentmesh(daemons.outsider, ['expose', 'translator', outsidersAgent.target, '--a2a'])
    await waitFor('the agents\' capability records in the DHT', async () =>
      (published(daemons.provider, 'translator') && published(daemons.provider, 'tools') && published(daemons.mallory, 'translator') && published(daemons.outsider, 'translator')) || undefined, 30_000, 200)
  })

  after(async () => {
    await hostile?.stop()
    await Promise.all(Object.values(daemons).map(async daemon => daemon.destroy()))
    await Promise.all(agents.map(async agent => agent.close()))
  })

  it('expose --a2a prints the card\'s skills; find --skill lists the members that publish it, nearest first, by skill id or tag', async () => {
    const printed = await agentmesh(daemons.provider, ['expose', 'translator', translator.target, '--a2a'])
    assert.match(printed, /A2A agent "Translator", skills: translate \(language, translation\), summarize \(text\)/)
    const found = await cliJson<FoundAgent[]>(daemons.alice.dataDir, ['find', '--skill', 'translate'])
    assert.deepEqual(found.map(agent => agent.member).sort(), ['mallory', 'provider'], 'both members, never the outsider')
    for (let i = 1; i < found.length; i++) assert.ok(found[i - 1].rttMs <= found[i].rttMs, 'nearest first')
    const ours = found.find(agent => agent.member === 'provider') as FoundAgent
    assert.equal(ours.peerId, ids.provider)
    assert.equal(ours.service, 'translator')
    assert.equal(ours.kind, 'a2a')
    assert.equal(ours.title, 'Translator')
    assert.equal(ours.network, 'fleet')
    assert.equal(ours.connection, 'direct')
    assert.deepEqual(ours.skills, [{ id: 'summarize', tags: ['text'] }, { id: 'translate', tags: ['language', 'translation'] }])
    // a tag, and a term written another way, find the same agent
    const byTag = await cliJson<FoundAgent[]>(daemons.alice.dataDir, ['find', '--skill', '  LANGUAGE '])
    assert.deepEqual(byTag.map(agent => agent.member).sort(), ['mallory', 'provider'])
    assert.deepEqual(await cliJson<FoundAgent[]>(daemons.alice.dataDir, ['find', '--skill', 'juggling']), [])
    const table = await agentmesh(daemons.alice, ['find', '--skill', 'translate'])
    assert.match(table, /^MEMBER +SERVICE +KIND +AGENT/m)
  })

  it('never returns a revoked member, a non-member that provides the skill\'s key, or another network\'s agents', async () => {
    await agentmesh(daemons.provider, ['revoke', 'mallory'])
    await waitFor('alice to hold the revocation', async () =>
      (await cliJson<NetworkView[]>(daemons.alice.dataDir, ['network', 'ls']))[0]?.revocationsVersion === 1 || undefined, 10_000, 200)
    // a node with no certificate announces itself under fleet's key for "translate"
    hostile = await startInProcessNode(() => false)
    const address = (await daemons.provider.id()).addresses.find(entry => entry.startsWith('/ip4/127.0.0.1/tcp/') && !entry.includes('p2p-circuit')) as string
    await waitFor('the hostile node to connect', async () => hostile?.node.dial(multiaddr(address)), 10_000, 500)
    const { networkKey } = (await cliJson<NetworkView[]>(daemons.alice.dataDir, ['network', 'ls']))[0] as NetworkView
    await hostile.node.contentRouting.provide(capabilityProvidersCid('skill', uint8ArrayFromString(networkKey, 'base16'), 'translate'), { signal: AbortSignal.timeout(10_000) })
    for (let round = 0; round < 3; round++) {
      const found = await cliJson<FoundAgent[]>(daemons.alice.dataDir, ['find', '--skill', 'translate'])
      assert.deepEqual(found.map(agent => agent.peerId), [ids.provider], `round ${round}: only the provider, never mallory (${ids.mallory}), the outsider or the hostile node`)
    }
  })

  it('connect --skill gives a local URL; the A2A SDK\'s client reads the card there, rewritten, and gets its reply through the mesh', async () => {
    const connection = await cliJson<ConnectView>(daemons.alice.dataDir, ['connect', '--skill', 'translate'])
    assert.match(connection.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    assert.equal(connection.member, 'provider')
    assert.equal(connection.service, 'translator')
    assert.equal(connection.reused, false)
    const card = await (await fetch(new URL('.well-known/agent-card.json', connection.url))).json() as { supportedInterfaces: Array<{ url: string, protocolBinding: string }> }
    assert.deepEqual(card.supportedInterfaces.map(entry => [entry.protocolBinding, entry.url]), [['JSONRPC', `${connection.url}a2a/jsonrpc`]], 'the interface on the forward; gRPC, which it cannot carry, left out')

    const client = await new ClientFactory().createFromUrl(connection.url)
    const answer = await client.sendMessage({
      message: { messageId: crypto.randomUUID(), contextId: '', taskId: '', role: 1, parts: [{ content: { $case: 'text', value: 'hello' }, metadata: undefined, filename: '', mediaType: 'text/plain' }], metadata: undefined, extensions: [], referenceTaskIds: [] },
      configuration: undefined,
      metadata: undefined,
      tenant: ''
    })
    assert.ok('messageId' in answer && 'parts' in answer, 'the agent answers with a message')
    const part = answer.parts[0]?.content
    assert.equal(part?.$case === 'text' ? part.value : undefined, 'hello (translated for alice)')

    // the same agent again: the same forward
    const again = await cliJson<ConnectView>(daemons.alice.dataDir, ['connect', 'provider/translator'])
    assert.equal(again.url, connection.url)
    assert.equal(again.reused, true)
    const printed = await agentmesh(daemons.alice, ['connect', '--skill', 'translation'])
    assert.equal(printed, `${connection.url}\n`, 'the URL alone on stdout')
  })

  it('names the caller to the agent in headers, and strips the ones the caller forged', async () => {
    const { url } = await cliJson<ConnectView>(daemons.alice.dataDir, ['connect', 'provider/translator'])
    const before = translator.requests.length
    const response = await fetch(new URL('a2a/jsonrpc', url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'a2a-version': '1.0',
        'x-agentmesh-name': 'provider',
        'X-AGENTMESH-PEER-ID': ids.provider,
        'x-agentmesh-groups': 'admin',
        'x-agentmesh-role': 'root',
        'x-forwarded-host': 'evil.example'
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'none' } })
    })
    await response.arrayBuffer()
    const seen = translator.requests.slice(before).find(request => request.path === '/a2a/jsonrpc')
    assert.ok(seen != null, 'the request reached the agent')
    assert.equal(seen.headers['x-agentmesh-peer-id'], ids.alice)
    assert.equal(seen.headers['x-agentmesh-name'], 'alice')
    assert.equal(seen.headers['x-agentmesh-groups'], 'ops,dev')
    assert.equal(seen.headers['x-agentmesh-network'], 'fleet')
    assert.equal(seen.headers['x-agentmesh-role'], undefined, 'no header of the prefix passes from the caller')
    assert.equal(seen.headers['x-forwarded-host'], new URL(url).host)
    assert.equal(seen.headers.host, translator.target, 'the service sees its own address as Host')
  })

  it('expose --mcp lists the tools; find --tool and connect --tool give the endpoint; the MCP SDK\'s client lists and calls tools through it', async () => {
    const found = await cliJson<FoundAgent[]>(daemons.alice.dataDir, ['find', '--tool', 'add'])
    assert.deepEqual(found.map(agent => [agent.member, agent.service, agent.kind, agent.title, agent.path]), [['provider', 'tools', 'mcp', 'calc', '/mcp']])
    assert.deepEqual(found[0].tools, ['add', 'whoami'])
    const connection = await cliJson<ConnectView>(daemons.alice.dataDir, ['connect', '--tool', 'add'])
    assert.match(connection.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    const client = new McpClient({ name: 'test', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(connection.url)))
    try {
      assert.deepEqual((await client.listTools()).tools.map(tool => tool.name).sort(), ['add', 'whoami'])
      const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })
      assert.deepEqual(sum.content, [{ type: 'text', text: '42' }])
      const who = await client.callTool({ name: 'whoami', arguments: {} })
      assert.deepEqual(who.content, [{ type: 'text', text: 'alice ops,dev' }])
    } finally {
      await client.close()
    }
  })
})
