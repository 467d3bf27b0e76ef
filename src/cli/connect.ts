import { optionText, printJson, UsageError } from './command.ts'
import type { Command } from './command.ts'

export const connectCommand: Command = {
  name: 'connect',
  summary: 'a local URL for an agent: the nearest member\'s with that skill or tool, or the one named; creates or reuses a forward on a free loopback port',
  usage: '--skill S | --tool T | <member>/<service> [--network NAME] [--json]',
  help: {
    notes: 'Prints the URL alone on stdout; a second call reuses the forward.',
    flags: [
      ['--skill S', 'the nearest A2A agent with this skill id or tag'],
      ['--tool T', 'the nearest MCP server with this tool'],
      ['--network NAME', 'look in this network only']
    ],
    examples: ['agentmesh connect --skill translate', 'agentmesh connect --tool add', 'agentmesh connect bob/translator --json']
  },
  options: { skill: { type: 'string' }, tool: { type: 'string' }, network: { type: 'string' } },
  positionals: [0, 1],
  async run ({ client, json, values, positionals }) {
    const [target] = positionals
    const given = [target, values.skill, values.tool].filter(value => value != null).length
    if (given !== 1) throw new UsageError('give one of <member>/<service>, --skill or --tool')
    const connection = await client.connect({ target, skill: optionText(values.skill), tool: optionText(values.tool), network: optionText(values.network) })
    if (json) return printJson(connection)
    process.stdout.write(`${connection.url}\n`)
    process.stderr.write(`${connection.reused ? 'reusing' : 'new'} forward ${connection.listen} -> ${connection.member ?? connection.peer}/${connection.service}${connection.kind != null ? ` (${connection.kind})` : ''}\n`)
  }
}
