'use strict'
// initLogging shows the core's progress on standard error.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { tempDir } = require('./support/helpers')

test('initLogging logs operations to stderr once set up', () => {
  const script = `
    const { initLogging, writeDeltaLake } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const first = initLogging()
    const second = initLogging()
    writeDeltaLake(process.argv[1], [{ id: 1n }]).then(() => console.log(JSON.stringify([first, second])))
  `
  const env = { ...process.env }
  delete env.RUST_LOG
  const run = spawnSync(process.execPath, ['-e', script, path.join(tempDir(), 't')], { encoding: 'utf8', env })
  assert.equal(run.status, 0, run.stderr)
  assert.deepEqual(JSON.parse(run.stdout), [true, false])
  assert.match(run.stderr, /deltalake.*write finished/)
})
