/**
 * Every command explains itself: `agentmesh <command> --help` exits 0 with its usage, a
 * line on every flag its usage names, and examples of itself, as `tailscale <cmd>
 * --help` does; an unknown flag is still bad usage (exit 2). No daemon is needed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cli } from '../helpers/daemon.ts'

describe('agentmesh <command> --help', () => {
  it('every command has flags and examples, and documents each flag of its usage', async () => {
    const overview = await cli(['--help'])
    assert.equal(overview.code, 0)
    const commands = [...overview.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map(match => match[1] as string)
    assert.ok(commands.length >= 20, `commands listed: ${commands.join(', ')}`)
    // 4 at a time: each is a Node process
    for (let i = 0; i < commands.length; i += 4) {
      await Promise.all(commands.slice(i, i + 4).map(async command => {
        const { code, stdout } = await cli([command, '--help'])
        assert.equal(code, 0, `${command} --help`)
        const [usage, rest] = [stdout.split('\n')[0] as string, stdout.slice(stdout.indexOf('\nFlags:'))]
        assert.match(usage, new RegExp(`^usage: agentmesh ${command}\\b`))
        const examples = rest.slice(rest.indexOf('\nExamples:\n')).split('\n').slice(2).filter(line => line !== '')
        assert.ok(examples.length > 0 && examples.every(line => line.startsWith(`  agentmesh ${command}`)), `${command}: examples of itself`)
        const flags = rest.slice(0, rest.indexOf('\nExamples:'))
        for (const flag of new Set(usage.match(/--[a-z][a-z0-9-]*/g))) assert.match(flags, new RegExp(`\\n {2}(-\\w, )?${flag}\\b`), `${command} --help explains ${flag}`)
      }))
    }
  })

  it('still refuses an unknown flag with the usage, exit 2', async () => {
    const result = await cli(['forward', '--bogus'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /usage: agentmesh forward/)
  })
})
