import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { disable, enable } from '@libp2p/logger'
import { libp2pLogger } from '../../src/node/libp2p-logger.ts'

describe('libp2pLogger: debug loggers only for the namespaces DEBUG enables', () => {
  after(() => { disable() })

  it('a disabled namespace gets a silent logger that takes every call', () => {
    disable()
    const log = libp2pLogger.forComponent('libp2p:yamux')
    assert.equal(log.enabled, false)
    log('%s', 'nothing')
    log.error('nothing %e', new Error('x'))
    log.trace('nothing')
    assert.equal(log.newScope('stream:1').enabled, false)
  })

  it('an enabled namespace gets libp2p\'s own logger, also as a scope of a silent one', () => {
    enable('libp2p:yamux:stream*')
    assert.equal(libp2pLogger.forComponent('libp2p:yamux').enabled, false)
    const scoped = libp2pLogger.forComponent('libp2p:yamux').newScope('stream:7')
    assert.equal(scoped.enabled, true)
    assert.equal(scoped.newScope('inbound').enabled, true)
  })

  it('a namespace whose errors alone are enabled gets the real logger, its errors on', () => {
    enable('libp2p:*:error')
    const log = libp2pLogger.forComponent('libp2p:dialer')
    assert.equal(log.enabled, false)
    assert.equal((log.error as unknown as { enabled: boolean }).enabled, true)
  })
})
