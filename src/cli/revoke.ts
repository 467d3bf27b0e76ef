import { optionText, printJson } from './command.ts'
import type { Command } from './command.ts'

export const revokeCommand: Command = {
  name: 'revoke',
  summary: 'revoke a member (admin only): every member refuses it within seconds',
  usage: '<name|peerId> [--network NAME] [--json]',
  help: {
    flags: [
      ['--network NAME', 'the network, when this node administers several']
    ],
    examples: ['agentmesh revoke bob']
  },
  options: { network: { type: 'string' } },
  positionals: [1, 1],
  async run ({ client, json, values, positionals }) {
    const revoked = await client.revoke({ member: positionals[0], network: optionText(values.network) })
    if (json) return printJson(revoked)
    process.stdout.write(`${revoked.peerId} revoked in ${revoked.network} (revocation list v${revoked.version}, spreading to the members)\n`)
  }
}
