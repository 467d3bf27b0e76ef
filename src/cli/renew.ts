import { optionText, printJson } from './command.ts'
import { groupsOption } from './trust.ts'
import type { Command } from './command.ts'

export const renewCommand: Command = {
  name: 'renew',
  summary: 'reissue a member\'s certificate (admin only): a new validity, or new groups; the old one is revoked',
  usage: '<name|peerId> [--groups a,b] [--ttl 30d] [--network NAME] [--json]',
  help: {
    flags: [
      ['--groups a,b', 'the new groups'],
      ['--ttl DURATION', 'the new validity (default 365d)'],
      ['--network NAME', 'the network, when this node administers several']
    ],
    examples: ['agentmesh renew bob --groups ops,dev', 'agentmesh renew 12D3KooW... --ttl 90d']
  },
  options: { groups: { type: 'string' }, ttl: { type: 'string' }, network: { type: 'string' } },
  positionals: [1, 1],
  async run ({ client, json, values, positionals }) {
    const issued = await client.renew({
      member: positionals[0], groups: groupsOption(values.groups), ttl: optionText(values.ttl), network: optionText(values.network)
    })
    if (json) return printJson(issued)
    process.stdout.write(`${issued.name} renewed in ${issued.network}: groups ${issued.groups.join(',') || 'none'}, valid until ${issued.expires}\n`)
    process.stdout.write(issued.delivered
      ? 'the member is connected and has its new certificate\n'
      : `the member is not connected: on its node, run agentmesh join ${issued.token}\n`)
  }
}
