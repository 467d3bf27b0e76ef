import { optionText, printJson } from './command.ts'
import { groupsOption } from './trust.ts'
import type { Command } from './command.ts'

export const inviteCommand: Command = {
  name: 'invite',
  summary: 'sign a member certificate for a peer (admin only) and print its token for agentmesh join',
  usage: '<peerId> --name NAME [--groups a,b] [--ttl 30d] [--relay] [--network NAME] [--json]',
  help: {
    notes: 'Prints the token alone on stdout; the peer runs agentmesh join <token>.',
    flags: [
      ['--name NAME', 'the member\'s name (required)'],
      ['--groups a,b', 'its groups'],
      ['--ttl DURATION', 'validity: 45s, 90m, 12h, 30d, 2w, 1y (default 365d)'],
      ['--relay', 'the role relay: a relay that serves the members'],
      ['--network NAME', 'the network, when this node administers several']
    ],
    examples: ['agentmesh invite 12D3KooW... --name bob --groups ops --ttl 30d', 'agentmesh invite 12D3KooW... --name relay1 --relay']
  },
  options: { name: { type: 'string' }, groups: { type: 'string' }, ttl: { type: 'string' }, relay: { type: 'boolean' }, network: { type: 'string' } },
  positionals: [1, 1],
  async run ({ client, json, values, positionals }) {
    const issued = await client.invite({
      peerId: positionals[0],
      name: optionText(values.name) as string,
      groups: groupsOption(values.groups),
      ttl: optionText(values.ttl),
      relay: values.relay === true,
      network: optionText(values.network)
    })
    if (json) return printJson(issued)
    // the token alone on stdout, so that `$(agentmesh invite ...)` is the token
    process.stdout.write(`${issued.token}\n`)
    process.stderr.write(`${issued.name} (${issued.peerId}) invited to ${issued.network} as ${issued.role}${issued.groups.length > 0 ? ` in ${issued.groups.join(',')}` : ''}, valid until ${issued.expires}\n`)
    process.stderr.write('on that node, run: agentmesh join <token>\n')
  }
}
