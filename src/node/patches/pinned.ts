import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The releases the patches in this folder were written against and checked with. Each
 * patch rewrites internals of one of them, which a new release may rename or reorder
 * without notice: a patch that no longer fits would become a silent no-op (or, for
 * optimistic select, leak multistream-select's echo into a tunnel). package.json pins
 * the same versions; a patch refuses to install on any other.
 */
export const PINNED_VERSIONS = {
  '@chainsafe/libp2p-yamux': '8.0.1',
  '@libp2p/tcp': '11.0.28',
  '@libp2p/utils': '7.4.1',
  libp2p: '3.3.11'
} as const

export type PinnedPackage = keyof typeof PINNED_VERSIONS

/** A libp2p patch that cannot be installed on what is there: the node does not start. */
export class PatchMismatchError extends Error {
  override name = 'PatchMismatchError'
}

/** Throws PatchMismatchError unless `pkg`, as this process resolves it, is the pinned release. */
export function assertPinned (patch: string, pkg: PinnedPackage, installed = installedVersion(pkg)): void {
  const pinned = PINNED_VERSIONS[pkg]
  if (installed !== pinned) {
    throw new PatchMismatchError(`the ${patch} patch (src/node/patches/) was written for ${pkg} ${pinned}, but ${installed} is installed: run npm ci for the pinned release, or check the patch against the new one and update PINNED_VERSIONS and package.json`)
  }
}

/** Throws PatchMismatchError unless `target` has the method `name` the patch wraps. */
export function assertMethod (patch: string, target: object, name: string, where: string): void {
  if (typeof (target as Record<string, unknown>)[name] !== 'function') {
    throw new PatchMismatchError(`the ${patch} patch (src/node/patches/) wraps ${where}.${name}, which is not there: the library changed under it`)
  }
}

const installed = new Map<string, string>()

/** The version in the package.json of the package `pkg` resolves to from here (read once: several patches ask at start). */
function installedVersion (pkg: string): string {
  let version = installed.get(pkg)
  if (version == null) {
    version = readInstalledVersion(pkg)
    installed.set(pkg, version)
  }
  return version
}

function readInstalledVersion (pkg: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(pkg)))
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      if (manifest.name === pkg) return manifest.version
    } catch {}
    const parent = dirname(dir)
    if (parent === dir) return 'no version found'
    dir = parent
  }
}
