#!/usr/bin/env node
import { helpText, parseCommandArgs, usageLine, UsageError } from './command.ts'
import { connectCommand } from './connect.ts'
import { eventsCommand } from './events.ts'
import { exposeCommand } from './expose.ts'
import { findCommand } from './find.ts'
import { forwardCommand } from './forward.ts'
import { forwardsCommand } from './forwards.ts'
import { hostsCommand } from './hosts.ts'
import { idCommand } from './id.ts'
import { inviteCommand } from './invite.ts'
import { joinCommand } from './join.ts'
import { mapCommand } from './map.ts'
import { membersCommand } from './members.ts'
import { networkCommand } from './network.ts'
import { peersCommand } from './peers.ts'
import { pingCommand } from './ping.ts'
import { renewCommand } from './renew.ts'
import { resolveCommand } from './resolve.ts'
import { revokeCommand } from './revoke.ts'
import { servicesCommand } from './services.ts'
import { startCommand } from './start.ts'
import { statusCommand } from './status.ts'
import { trustCommand } from './trust.ts'
import { uiCommand } from './ui.ts'
import { unexposeCommand } from './unexpose.ts'
import { unforwardCommand } from './unforward.ts'
import { unmapCommand } from './unmap.ts'
import type { Command } from './command.ts'

const COMMANDS: Command[] = [
  startCommand, idCommand, statusCommand, peersCommand, pingCommand,
  trustCommand, exposeCommand, unexposeCommand, servicesCommand, forwardCommand, unforwardCommand, forwardsCommand,
  networkCommand, inviteCommand, joinCommand, membersCommand, renewCommand, revokeCommand,
  resolveCommand, mapCommand, unmapCommand, hostsCommand, findCommand, connectCommand, eventsCommand, uiCommand
]

function overview (): string {
  const width = Math.max(...COMMANDS.map(command => command.name.length)) + 2
  return [
    'usage: agentmesh <command> [options]   (every command takes --data-dir DIR and --help)',
    '',
    ...COMMANDS.map(command => `  ${command.name.padEnd(width)}${command.summary}`)
  ].join('\n') + '\n'
}

async function main (argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name == null || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(overview())
    return name == null ? 2 : 0
  }
  const command = COMMANDS.find(candidate => candidate.name === name)
  if (command == null) {
    process.stderr.write(`agentmesh: unknown command '${name}'\n${overview()}`)
    return 2
  }
  try {
    const input = parseCommandArgs(command, args, process.env)
    if (input === 'help') {
      process.stdout.write(helpText(command))
      return 0
    }
    await command.run(input)
    return 0
  } catch (err: any) {
    if (err instanceof UsageError) {
      process.stderr.write(`agentmesh ${name}: ${err.message}\n${usageLine(command)}\n`)
      return 2
    }
    process.stderr.write(`agentmesh ${name}: ${err.message}\n`)
    if (process.env.DEBUG != null) process.stderr.write(`${err.stack}\n`)
    return 1
  }
}

const status = await main(process.argv.slice(2))
// `start` keeps running on its own handles; every other command ends here
if (status !== 0) process.exit(status)
