'use strict'
// Concurrency: many reads of one table at once, tables used from worker threads, and the event
// loop kept responsive while a large table is scanned.

const test = require('node:test')
const assert = require('node:assert/strict')
const os = require('node:os')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { DeltaTable, writeDeltaLake } = require('..')
const { tablesDir, tempDir } = require('./support/helpers')

test('50 concurrent toArrowTable calls on one table', async () => {
  const table = await DeltaTable.open(path.join(tablesDir, 'delta-0.8.0-partitioned'))
  const expected = (await table.toArrowTable()).numRows
  const tables = await Promise.all(Array.from({ length: 50 }, () => table.toArrowTable()))
  assert.ok(tables.every((t) => t.numRows === expected))
  assert.equal(expected, 7)
})

test('reads from 4 worker threads, and writes from two at once', async () => {
  const script = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { DeltaTable, writeDeltaLake } = require(${JSON.stringify(path.resolve(__dirname, '..'))})
    ;(async () => {
      if (workerData.write) {
        await writeDeltaLake(workerData.uri, [{ id: BigInt(workerData.n) }], { mode: 'append' })
        parentPort.postMessage({ ok: true })
        return
      }
      const table = await DeltaTable.open(workerData.uri)
      const counts = []
      for (let i = 0; i < 5; i++) counts.push((await table.toArrowTable()).numRows)
      parentPort.postMessage({ counts, version: table.version() })
    })().catch((err) => parentPort.postMessage({ error: String(err) }))
  `
  const run = (workerData) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(script, { eval: true, workerData })
      worker.once('message', resolve)
      worker.once('error', reject)
    })
  const uri = path.join(tablesDir, 'simple_table_with_checkpoint')
  const results = await Promise.all([0, 1, 2, 3].map(() => run({ uri })))
  for (const r of results) {
    assert.equal(r.error, undefined)
    assert.deepEqual(r.counts, [11, 11, 11, 11, 11])
    assert.equal(r.version, 10)
  }
  const target = tempDir()
  await writeDeltaLake(target, [{ id: 0n }])
  const writes = await Promise.all([1, 2].map((n) => run({ uri: target, n, write: true })))
  assert.ok(writes.every((w) => w.ok))
  const written = await DeltaTable.open(target)
  assert.equal(written.version(), 2)
  assert.equal((await written.toArrowTable()).numRows, 3)
})

test('the event loop stays responsive during a large scan', async (t) => {
  const uri = tempDir()
  // About two million rows in ten files.
  async function* data() {
    for (let f = 0; f < 10; f++) {
      const n = 200000
      const id = BigInt64Array.from({ length: n }, (_, i) => BigInt(f * n + i))
      const value = Float64Array.from({ length: n }, (_, i) => i * 0.5)
      const arrow = require('apache-arrow')
      yield* arrow.tableFromArrays({ id, value }).batches
    }
  }
  await writeDeltaLake(uri, data(), { targetFileSize: 1 << 20 })
  const table = await DeltaTable.open(uri)

  // Each tick of a 5 ms timer records how long it waited and how long the loop was busy
  // meanwhile (event-loop utilisation): our JavaScript-side work must never hold the loop.
  let last = performance.now()
  let lastElu = performance.eventLoopUtilization()
  let worstWait = 0
  let worstBusy = 0
  const timer = setInterval(() => {
    const now = performance.now()
    const elu = performance.eventLoopUtilization()
    worstWait = Math.max(worstWait, now - last)
    worstBusy = Math.max(worstBusy, performance.eventLoopUtilization(elu, lastElu).active)
    last = now
    lastElu = elu
  }, 5)
  const before = performance.eventLoopUtilization()
  try {
    const start = performance.now()
    const whole = await table.toArrowTable()
    let streamed = 0
    for await (const chunk of table.scan()) streamed += chunk.length
    const elapsed = performance.now() - start
    assert.equal(whole.numRows, 2000000)
    assert.ok(streamed > 0)
    assert.ok(elapsed > 100, `the scan took ${elapsed} ms: too short to tell`)
  } finally {
    clearInterval(timer)
  }
  const utilisation = performance.eventLoopUtilization(before).utilization
  t.diagnostic(`longest timer wait ${worstWait.toFixed(1)} ms, longest busy stretch ${worstBusy.toFixed(1)} ms, loop busy ${(utilisation * 100).toFixed(0)}% of the scan`)
  assert.ok(utilisation < 0.5, `the loop was busy ${utilisation} of the time`)
  // Both stretches also count the time the OS gave the CPU to other threads (the scan's, and
  // garbage collection): judged when the machine is not overloaded, as a 2-core machine building
  // other crates meanwhile is.
  if (os.loadavg()[0] <= os.cpus().length) {
    assert.ok(worstBusy < 50, `the loop was busy for ${worstBusy.toFixed(1)} ms at a stretch`)
    assert.ok(worstWait < 50, `a 5 ms timer waited ${worstWait.toFixed(1)} ms`)
  } else {
    t.diagnostic(`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs: the stretches are not judged`)
  }
})
