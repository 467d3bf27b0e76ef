import { optionText, printFields, printJson } from './command.ts'
import type { Command } from './command.ts'

export const resolveCommand: Command = {
  name: 'resolve',
  summary: 'look a member up by name: its peer id, groups, addresses and published services (from the DHT when unknown here)',
  usage: '<name> [--network NAME] [--json]',
  help: {
    flags: [
      ['--network NAME', 'look in this network only']
    ],
    examples: ['agentmesh resolve bob', 'agentmesh resolve bob --network fleet --json']
  },
  options: { network: { type: 'string' } },
  positionals: [1, 1],
  async run ({ client, json, values, positionals }) {
    const member = await client.resolve(positionals[0], optionText(values.network))
    if (json) return printJson(member)
    printFields([
      ['name', `${member.name} (${member.network})`],
      ['peer', member.peerId],
      ['groups', member.groups.join(',') || 'none'],
      ['services', member.services.map(service => `${service.name} (${service.proto}, port ${service.port})`)],
      ['addresses', member.addresses],
      ['record', `valid until ${member.expires} (from the ${member.source === 'dht' ? 'DHT' : 'cache'})`]
    ])
  }
}
