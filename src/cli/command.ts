import { parseArgs } from 'node:util'
import { resolveDataDir } from '../config/data-dir.ts'
import { ControlClient } from '../control/client.ts'
import type { DataDir } from '../config/data-dir.ts'
import type { ParseArgsOptionsConfig } from 'node:util'

/** Bad command-line input: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export interface CommandInput {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>
  positionals: string[]
  dataDir: DataDir
  /** set by `--json`: print one JSON document on stdout and nothing else there */
  json: boolean
  client: ControlClient
}

export interface Command {
  name: string
  summary: string
  /** the arguments after the command's name, e.g. `<peer> [--count N]` */
  usage: string
  /** the long `--help`: what the flags do, and examples, as `tailscale <cmd> --help` gives */
  help: CommandHelp
  options?: ParseArgsOptionsConfig
  /** how many positional arguments the command takes: [at least, at most] */
  positionals?: [number, number]
  run(input: CommandInput): Promise<void>
}

export interface CommandHelp {
  /** what the summary leaves out */
  notes?: string
  /** [flag, what it does], in usage order; --data-dir, --json and --help are added */
  flags?: Array<[string, string]>
  examples: string[]
}

const COMMON_FLAGS: Array<[string, string]> = [
  ['--data-dir DIR', 'the node\'s data directory (default $AGENTMESH_HOME, else ~/.agentmesh)'],
  ['--json', 'print one JSON document on stdout and nothing else there'],
  ['-h, --help', 'this help']
]

/** The text `agentmesh <command> --help` prints. */
export function helpText (command: Command): string {
  const flags = [...command.help.flags ?? [], ...COMMON_FLAGS]
  const width = Math.max(...flags.map(([flag]) => flag.length)) + 2
  return [
    usageLine(command),
    '',
    `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
    ...command.help.notes == null ? [] : ['', command.help.notes],
    '',
    'Flags:',
    ...flags.map(([flag, what]) => `  ${flag.padEnd(width)}${what}`),
    '',
    'Examples:',
    ...command.help.examples.map(example => `  ${example}`)
  ].join('\n') + '\n'
}

const COMMON_OPTIONS: ParseArgsOptionsConfig = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}

/** Parses a command's arguments strictly: an unknown flag or a missing argument is a UsageError. */
export function parseCommandArgs (command: Command, args: string[], env: NodeJS.ProcessEnv): CommandInput | 'help' {
  let parsed
  try {
    parsed = parseArgs({ args, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: true, strict: true })
  } catch (err: any) {
    throw new UsageError(err.message.replace(/\. To specify a positional argument.*$/s, ''))
  }
  if (parsed.values.help === true) return 'help'
  const [min, max] = command.positionals ?? [0, 0]
  if (parsed.positionals.length < min) throw new UsageError('missing argument')
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`)
  const dataDir = resolveDataDir(parsed.values['data-dir'] as string | undefined, env)
  return {
    values: parsed.values,
    positionals: parsed.positionals,
    dataDir,
    json: parsed.values.json === true,
    client: new ControlClient(dataDir)
  }
}

export function usageLine (command: Command): string {
  return `usage: agentmesh ${command.name}${command.usage === '' ? '' : ` ${command.usage}`} [--data-dir DIR]`
}

/** A string flag's value; undefined when it is not given. */
export function optionText (value: CommandInput['values'][string]): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** A repeatable string flag's values; undefined when it is not given. */
export function optionList (value: CommandInput['values'][string]): string[] | undefined {
  return Array.isArray(value) ? value.filter(item => typeof item === 'string') : undefined
}

export function printJson (value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** Lines of `label  value` with the values aligned; lists continue on indented lines. */
export function printFields (fields: Array<[string, string | string[]]>): void {
  const width = Math.max(...fields.map(([label]) => label.length)) + 2
  for (const [label, value] of fields) {
    const lines = Array.isArray(value) ? (value.length === 0 ? ['none'] : value) : [value]
    lines.forEach((line, index) => {
      process.stdout.write(`${(index === 0 ? label : '').padEnd(width)}${line}\n`)
    })
  }
}

/** A table with a header row, columns padded to their widest cell. */
export function printTable (header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]?.length ?? 0)))
  for (const row of [header, ...rows]) {
    process.stdout.write(`${row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join('  ')}\n`)
  }
}
