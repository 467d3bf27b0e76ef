import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import defaults from '../../config/default.json' with { type: 'json' }
import { configSchema } from './schema.ts'
import { UserError } from '../errors.ts'
import type { Config } from './schema.ts'
import type { z } from 'zod'

export class ConfigError extends UserError {
  override name = 'ConfigError'
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = Record<string, Json>

/** One source of settings, lowest precedence first. */
interface Layer {
  origin: string
  values: JsonObject
}

export interface LoadConfigOptions {
  dataDir: string
  /** `--config FILE`; otherwise `$AGENTMESH_CONFIG`, otherwise `config.json` in the data directory if it exists */
  configFile?: string
  env: NodeJS.ProcessEnv
  /** settings given as command-line flags, in the shape of the config */
  flags: JsonObject
}

export const ENV_PREFIX = 'AGENTMESH_'

/**
 * Builds the configuration from `config/default.json`, the config file, `AGENTMESH_*`
 * variables and flags, each overriding the one before, and validates the result.
 */
export async function loadConfig (options: LoadConfigOptions): Promise<Config> {
  const layers: Layer[] = [{ origin: 'config/default.json', values: defaults as JsonObject }]
  const file = options.configFile ?? options.env.AGENTMESH_CONFIG ?? defaultConfigFile(options.dataDir)
  if (file != null) {
    layers.push({ origin: `config file ${file}`, values: await readConfigFile(file) })
  }
  layers.push(...envLayers(options.env))
  layers.push({ origin: 'command-line flags', values: options.flags })

  const origins = new Map<string, string>()
  let merged: JsonObject = {}
  for (const layer of layers) {
    merged = mergeLayer(merged, layer, [], origins)
  }
  const result = configSchema.safeParse(merged, { reportInput: true })
  if (!result.success) {
    throw new ConfigError(`invalid configuration: ${result.error.issues.map(issue => describeIssue(issue, origins)).join('; ')}`)
  }
  return result.data
}

function defaultConfigFile (dataDir: string): string | undefined {
  const file = join(dataDir, 'config.json')
  return existsSync(file) ? file : undefined
}

async function readConfigFile (file: string): Promise<JsonObject> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: any) {
    throw new ConfigError(`cannot read config file ${file}: ${err.code ?? err.message}`)
  }
  let values: unknown
  try {
    values = JSON.parse(text)
  } catch (err: any) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${err.message}`)
  }
  if (!isObject(values)) {
    throw new ConfigError(`config file ${file} must hold a JSON object, like config/default.json`)
  }
  return values
}

/** One layer per `AGENTMESH_*` variable that names a key of `config/default.json`. */
function envLayers (env: NodeJS.ProcessEnv): Layer[] {
  const layers: Layer[] = []
  for (const [path, example] of leaves(defaults as JsonObject, [])) {
    const name = envName(path)
    const raw = env[name]
    if (raw == null) continue
    let values: Json = parseEnvValue(raw, example)
    for (const key of [...path].reverse()) values = { [key]: values }
    layers.push({ origin: name, values: values as JsonObject })
  }
  return layers
}

/** `discovery.walkIntervalSeconds` -> `AGENTMESH_DISCOVERY_WALK_INTERVAL_SECONDS` */
export function envName (path: string[]): string {
  return ENV_PREFIX + path.map(key => key.replace(/[A-Z]/g, c => `_${c}`)).join('_').toUpperCase()
}

/** Reads a variable as the type of its default: lists are comma-separated. */
function parseEnvValue (raw: string, example: Json): Json {
  if (Array.isArray(example)) return raw.split(',').map(item => item.trim()).filter(item => item !== '')
  if (typeof example === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
  if (typeof example === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw
  return raw
}

function * leaves (object: JsonObject, path: string[]): Generator<[string[], Json]> {
  for (const [key, value] of Object.entries(object)) {
    if (isObject(value)) yield * leaves(value, [...path, key])
    else yield [[...path, key], value]
  }
}

/** Objects merge key by key; anything else (lists included) replaces what was there. */
function mergeLayer (base: JsonObject, layer: Layer, path: string[], origins: Map<string, string>): JsonObject {
  const source = path.reduce<Json>((object, key) => isObject(object) ? object[key] ?? null : null, layer.values)
  if (!isObject(source)) return base
  const merged: JsonObject = { ...base }
  for (const [key, value] of Object.entries(source)) {
    const keyPath = [...path, key]
    if (isObject(value) && isObject(merged[key])) {
      merged[key] = mergeLayer(merged[key] as JsonObject, layer, keyPath, origins)
    } else {
      merged[key] = value
      origins.set(keyPath.join('.'), layer.origin)
    }
  }
  return merged
}

function isObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describeIssue (issue: z.core.$ZodIssue, origins: Map<string, string>): string {
  const key = keyName(issue.path)
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map(unknown => {
      const full = key === '' ? unknown : `${key}.${unknown}`
      return `unknown key "${full}" (from ${origins.get(full) ?? 'unknown source'})`
    }).join('; ')
  }
  const origin = originOf(issue.path.map(String), origins)
  const value = JSON.stringify(issue.input) ?? 'nothing'
  return `${key} = ${value.length > 80 ? `${value.slice(0, 77)}...` : value} (from ${origin}): ${issue.message}`
}

/** `['bootstrap', 0]` -> `bootstrap[0]` */
function keyName (path: PropertyKey[]): string {
  return path.map((key, index) => typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`).join('')
}

/** The layer that set a key, or the closest enclosing key (list items belong to their list). */
function originOf (path: string[], origins: Map<string, string>): string {
  for (let length = path.length; length > 0; length--) {
    const origin = origins.get(path.slice(0, length).join('.'))
    if (origin != null) return origin
  }
  return 'config/default.json'
}
