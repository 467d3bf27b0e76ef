import { printJson } from './command.ts'
import type { Command } from './command.ts'

export const joinCommand: Command = {
  name: 'join',
  summary: 'become a member of a network with a token from its admin (agentmesh invite), and bootstrap from the inviter',
  usage: '<token> [--json]',
  help: {
    examples: ['agentmesh join amtok1_...']
  },
  positionals: [1, 1],
  async run ({ client, json, positionals }) {
    const joined = await client.join(positionals[0])
    if (json) return printJson(joined)
    process.stdout.write(`joined ${joined.name} (VNI ${joined.vni}) as ${joined.memberName}, ${joined.role}${joined.groups.length > 0 ? ` in ${joined.groups.join(',')}` : ''}, valid until ${joined.expires}; bootstrapping from ${joined.bootstrap.length} address(es)\n`)
  }
}
