/**
 * Real agents on loopback for the agent tests: an A2A agent served with the official
 * `@a2a-js/sdk` (its Express handlers: the agent card and JSON-RPC), and an MCP server
 * built with `@modelcontextprotocol/sdk` over Streamable HTTP (stateless: a server and
 * transport per request, answering in server-sent events). Both keep the headers of
 * every request they get, and their replies name the caller from the
 * `X-Agentmesh-Name` header, as an agent that trusts the mesh would.
 */
import { createServer } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import express from 'express'
import { AGENT_CARD_PATH } from '@a2a-js/sdk'
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server'
import { agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'
import type { AgentCard, Message } from '@a2a-js/sdk'
import type { AgentExecutor, RequestContext, ExecutionEventBus } from '@a2a-js/sdk/server'
import type { IncomingHttpHeaders, Server } from 'node:http'

export interface AgentServer {
  port: number
  target: string
  /** the headers of every request, in order */
  requests: Array<{ method: string, path: string, headers: IncomingHttpHeaders }>
  close(): Promise<void>
}

async function listen (server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

async function close (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => { resolve() }))
}

/** A2A: `translate` (tags language, translation) and `summarize`; replies `<text> (translated for <caller>)`. */
export async function startA2aAgent (name = 'Translator'): Promise<AgentServer> {
  const requests: AgentServer['requests'] = []
  const card: AgentCard = {
    name,
    description: 'Translates and summarises text',
    supportedInterfaces: [
      { url: 'http://127.0.0.1:0/a2a/jsonrpc', protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
      // a gRPC interface, which a forward cannot carry: the rewritten card leaves it out
      { url: '127.0.0.1:50051', protocolBinding: 'GRPC', tenant: '', protocolVersion: '1.0' }
    ],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: false, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [
      { id: 'translate', name: 'Translate', description: 'Translates text', tags: ['Language', 'translation'], examples: [], inputModes: [], outputModes: [], securityRequirements: [] },
      { id: 'summarize', name: 'Summarize', description: 'Summarises text', tags: ['text'], examples: [], inputModes: [], outputModes: [], securityRequirements: [] }
    ],
    signatures: []
  }
  const executor: AgentExecutor = {
    async execute (context: RequestContext, bus: ExecutionEventBus): Promise<void> {
      const text = context.userMessage.parts.map(part => part.content?.$case === 'text' ? part.content.value : '').join('')
      const reply: Message = {
        messageId: crypto.randomUUID(),
        contextId: context.contextId,
        taskId: '',
        role: 2, // ROLE_AGENT
        parts: [{ content: { $case: 'text', value: `${text} (translated for ${context.context.user?.userName ?? 'nobody'})` }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
        metadata: undefined,
        extensions: [],
        referenceTaskIds: []
      }
      bus.publish(AgentEvent.message(reply))
      bus.finished()
    },
    async cancelTask (): Promise<void> {}
  }
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor)
  const app = express()
  app.use((req, _res, next) => {
    requests.push({ method: req.method, path: req.originalUrl, headers: { ...req.headers } })
    next()
  })
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }))
  app.use('/a2a/jsonrpc', jsonRpcHandler({
    requestHandler: handler,
    // the caller as the mesh names it: the agent's own user model, fed by the proxy's headers
    userBuilder: async req => ({ isAuthenticated: req.header('x-agentmesh-name') != null, userName: req.header('x-agentmesh-name') ?? 'nobody' })
  }))
  const server = createServer(app)
  const port = await listen(server)
  ;(card.supportedInterfaces[0] as { url: string }).url = `http://127.0.0.1:${port}/a2a/jsonrpc`
  return { port, target: `127.0.0.1:${port}`, requests, close: async () => close(server) }
}

/** MCP: tools `add` and `whoami` (the caller's name and groups from the mesh's headers), answered as server-sent events. */
export async function startMcpServer (): Promise<AgentServer> {
  const requests: AgentServer['requests'] = []
  const app = express()
  app.use(express.json())
  app.post('/mcp', async (req, res) => {
    requests.push({ method: req.method, path: req.originalUrl, headers: { ...req.headers } })
    const server = new McpServer({ name: 'calc', version: '1.0.0' })
    server.registerTool('add', { description: 'adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }))
    server.registerTool('whoami', { description: 'who the mesh says is calling' }, async extra => ({
      content: [{ type: 'text', text: `${String(extra.requestInfo?.headers['x-agentmesh-name'])} ${String(extra.requestInfo?.headers['x-agentmesh-groups'])}` }]
    }))
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  const server = createServer(app)
  const port = await listen(server)
  return { port, target: `127.0.0.1:${port}`, requests, close: async () => close(server) }
}

/** An HTTP server that answers the card path with `body` (and `status`), for the cards `expose --a2a` must refuse. */
export async function startCardServer (respond: (path: string) => { status: number, body: string | Buffer, headers?: Record<string, string> }): Promise<AgentServer> {
  const requests: AgentServer['requests'] = []
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
    const answer = respond(req.url ?? '/')
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
    res.end(answer.body)
  })
  const port = await listen(server)
  return { port, target: `127.0.0.1:${port}`, requests, close: async () => close(server) }
}

/** A TCP server that accepts and never answers: a service that does not answer. */
export async function startSilentServer (): Promise<AgentServer & { connections: number }> {
  const sockets = new Set<import('node:net').Socket>()
  const result = { port: 0, target: '', requests: [], connections: 0, close: async () => {} }
  const server = createTcpServer(socket => {
    result.connections++
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  result.port = (server.address() as { port: number }).port
  result.target = `127.0.0.1:${result.port}`
  result.close = async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>(resolve => server.close(() => { resolve() }))
  }
  return result
}
