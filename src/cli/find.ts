import { optionText, printJson, printTable } from './command.ts'
import type { Command } from './command.ts'

export const findCommand: Command = {
  name: 'find',
  summary: 'find the A2A agents (by skill id or tag) or MCP servers (by tool) that the members of this node\'s networks publish, nearest first',
  usage: '--skill S | --tool T [--network NAME] [--json]',
  help: {
    flags: [
      ['--skill S', 'an A2A skill id or tag'],
      ['--tool T', 'an MCP tool name'],
      ['--network NAME', 'look in this network only']
    ],
    examples: ['agentmesh find --skill translate', 'agentmesh find --tool add --json']
  },
  options: { skill: { type: 'string' }, tool: { type: 'string' }, network: { type: 'string' } },
  async run ({ client, json, values }) {
    const found = await client.findAgents({ skill: optionText(values.skill), tool: optionText(values.tool), network: optionText(values.network) })
    if (json) return printJson(found)
    if (found.length === 0) return void process.stdout.write(`no member publishes ${typeof values.tool === 'string' ? `an MCP server with tool "${values.tool}"` : `an agent with skill "${String(values.skill)}"`}, or none answers\n`)
    printTable(['MEMBER', 'SERVICE', 'KIND', 'AGENT', 'SKILLS', 'PATH', 'RTT', 'NETWORK'], found.map(agent => [
      agent.member, agent.service, agent.kind, agent.title,
      agent.tools?.join(',') ?? agent.skills?.map(skill => skill.id).join(',') ?? '', agent.connection, `${Math.round(agent.rttMs)} ms`, agent.network
    ]))
  }
}
