import { printJson, printTable } from './command.ts'
import type { Command } from './command.ts'

export const membersCommand: Command = {
  name: 'members',
  summary: 'list the members of this node\'s networks that it knows of: name, peer id, groups, expiry, online, path',
  usage: '[--json]',
  help: {
    examples: ['agentmesh members', 'agentmesh members --json']
  },
  async run ({ client, json }) {
    const members = await client.members()
    if (json) return printJson(members)
    if (members.length === 0) return void process.stdout.write('in no network: agentmesh network init <name>, or agentmesh join <token>\n')
    printTable(['NETWORK', 'NAME', 'PEER', 'GROUPS', 'ROLE', 'EXPIRES', 'STATE'], members.map(member => [
      member.network, member.name, member.peerId, member.groups.join(',') || '-', member.role, member.expires,
      member.revoked ? 'revoked' : member.self ? 'this node' : member.online ? `online (${member.path})` : 'offline'
    ]))
  }
}
