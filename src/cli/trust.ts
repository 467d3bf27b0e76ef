import { optionText, printJson, printTable, UsageError } from './command.ts'
import type { Command } from './command.ts'

export const trustCommand: Command = {
  name: 'trust',
  summary: 'manage the peers allowed to tunnel to and from this node: add, rm, ls',
  usage: 'add <peerId> [--name NAME] [--groups a,b] | rm <peerId> | ls [--json]',
  help: {
    notes: 'Trust is mutual: each side adds the other. Members of a shared network need no trust add.',
    flags: [
      ['--name NAME', 'with add: the name the peer is known by here'],
      ['--groups a,b', 'with add: its groups, for expose --allow @group']
    ],
    examples: ['agentmesh trust add 12D3KooW... --name laptop --groups ops', 'agentmesh trust rm 12D3KooW...', 'agentmesh trust ls --json']
  },
  options: { name: { type: 'string' }, groups: { type: 'string' } },
  positionals: [1, 2],
  async run ({ client, json, values, positionals }) {
    const [action, peerId] = positionals
    if (action === 'ls') {
      const peers = await client.trusted()
      if (json) return printJson(peers)
      if (peers.length === 0) return void process.stdout.write('no trusted peers: agentmesh trust add <peerId>\n')
      return printTable(['PEER', 'NAME', 'GROUPS'], peers.map(peer => [peer.peerId, peer.name ?? '-', peer.groups.join(',') || '-']))
    }
    if (peerId == null) throw new UsageError(`trust ${action ?? ''} needs a peer id`)
    if (action === 'add') {
      const peer = await client.trust({ peerId, name: optionText(values.name), groups: groupsOption(values.groups) })
      return json ? printJson(peer) : void process.stdout.write(`trusted ${peer.peerId}${peer.name == null ? '' : ` as ${peer.name}`}\n`)
    }
    if (action === 'rm') {
      await client.untrust(peerId)
      return json ? printJson({ peerId }) : void process.stdout.write(`no longer trusted: ${peerId}\n`)
    }
    throw new UsageError(`unknown trust action '${action}': expected add, rm or ls`)
  }
}

/** `--groups a,b` as a list; unset stays unset (keeping what was there). */
export function groupsOption (value: unknown): string[] | undefined {
  return typeof value === 'string' ? value.split(',').map(group => group.trim()).filter(group => group !== '') : undefined
}
