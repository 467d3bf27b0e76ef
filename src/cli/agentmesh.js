#!/usr/bin/env node
// The command's entry point. It is JavaScript so that it runs before any TypeScript is
// loaded: it turns on Node's compile cache, which keeps the type-stripped JavaScript of
// each module (and V8's code for it), keyed by the source's hash. A start then neither
// loads Node's TypeScript stripper (about 17 MiB of RSS for the life of the process) nor
// strips or compiles anything again; the first run after a change fills the cache.
// AGENTMESH_COMPILE_CACHE puts the cache elsewhere.
import { enableCompileCache } from 'node:module'
import { join } from 'node:path'

enableCompileCache(process.env.AGENTMESH_COMPILE_CACHE ?? join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'agentmesh'))
// the daemon re-executes itself with its V8 flags before it loads anything else
if (process.argv[2] === 'start') (await import('../daemon/v8-flags.ts')).execWithDaemonFlags()
await import('./main.ts')
