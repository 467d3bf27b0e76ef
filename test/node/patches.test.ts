/**
 * The libp2p patches (src/node/patches/) refuse to install on releases they were not
 * written for, or on classes that lack what they wrap, with an error that says which
 * patch, what it expected and what to do; package.json pins the same releases.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { assertMethod, assertPinned, PatchMismatchError, PINNED_VERSIONS } from '../../src/node/patches/pinned.ts'
import type { PinnedPackage } from '../../src/node/patches/pinned.ts'

const ROOT = join(import.meta.dirname, '..', '..')

describe('libp2p patches: pinned releases and present methods', () => {
  it('package.json pins exactly the releases the patches were written for, and they are the ones installed', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    for (const [pkg, version] of Object.entries(PINNED_VERSIONS)) {
      assert.equal(manifest.dependencies[pkg], version, `package.json pins ${pkg}`)
      assert.doesNotThrow(() => { assertPinned('test', pkg as PinnedPackage) })
    }
  })

  it('refuses another release, naming the patch, both versions and what to do', () => {
    assert.throws(() => { assertPinned('yamux window updates', '@chainsafe/libp2p-yamux', '8.1.0') }, (err: Error) => {
      assert.ok(err instanceof PatchMismatchError)
      assert.equal(err.name, 'PatchMismatchError')
      assert.match(err.message, /yamux window updates patch .* written for @chainsafe\/libp2p-yamux 8\.0\.1, but 8\.1\.0 is installed: run npm ci/)
      return true
    })
  })

  it('refuses a class that lacks the method it wraps', () => {
    class Renamed { sendWindowUpdateV2 (): void {} }
    assert.throws(() => { assertMethod('yamux window updates', Renamed.prototype, 'sendWindowUpdate', 'YamuxStream.prototype') },
      { name: 'PatchMismatchError', message: /wraps YamuxStream\.prototype\.sendWindowUpdate, which is not there/ })
    assert.doesNotThrow(() => { assertMethod('test', Renamed.prototype, 'sendWindowUpdateV2', 'Renamed.prototype') })
  })
})
