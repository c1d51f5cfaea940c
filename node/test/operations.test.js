'use strict'
// Every operation with its metrics, the change data feed, and AbortSignal.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const fs = require('node:fs')
const { DeltaTable, writeDeltaLake, DeltaError, DeltaInvalidArgumentError } = require('..')
const { tempDir, tablesDir } = require('./support/helpers')

async function people(rows = [[1n, 'ann', 30], [2n, 'bob', 40], [3n, 'cy', 50]], options = {}) {
  const uri = tempDir()
  await writeDeltaLake(uri, rows.map(([id, name, age]) => ({ id, name, age: BigInt(age) })), options)
  return DeltaTable.open(uri)
}

const sorted = async (table) => (await table.toRows({ int64AsNumber: true })).sort((a, b) => a.id - b.id)

test('delete and update resolve to their metrics', async () => {
  const table = await people()
  const deleted = await table.delete('age > 45')
  assert.equal(deleted.numDeletedRows, 1)
  assert.equal(deleted.numAddedFiles, 1)
  assert.equal(deleted.numRemovedFiles, 1)
  assert.equal(typeof deleted.executionTimeMs, 'number')
  assert.equal(table.version(), 1)
  const updated = await table.update({ age: 'age + 1', name: "upper(name)" }, { predicate: 'id = 1' })
  assert.equal(updated.numUpdatedRows, 1)
  assert.equal(updated.numCopiedRows, 1)
  assert.deepEqual(await sorted(table), [
    { id: 1, name: 'ANN', age: 31 },
    { id: 2, name: 'bob', age: 40 },
  ])
  const all = await table.delete()
  assert.equal(all.numDeletedRows, 2)
  assert.equal((await table.toRows()).length, 0)
})

test('merge with all seven clauses', async () => {
  const table = await people([[1n, 'ann', 30], [2n, 'bob', 40], [3n, 'cy', 50], [4n, 'dee', 60]])
  const source = [
    { id: 1n, name: 'ann2', age: 31n },
    { id: 2n, name: 'bob2', age: 41n },
    { id: 5n, name: 'eve', age: 20n },
    { id: 6n, name: 'fay', age: 70n },
  ]
  const metrics = await table
    .merge(source, 't.id = s.id', { sourceAlias: 's', targetAlias: 't' })
    .whenMatchedDelete('s.id = 2')
    .whenMatchedUpdate({ name: 's.name' }, 's.id = 99')
    .whenMatchedUpdateAll()
    .whenNotMatchedInsert({ id: 's.id', name: "'inserted'", age: 's.age' }, 's.age > 50')
    .whenNotMatchedInsertAll()
    .whenNotMatchedBySourceUpdate({ age: 't.age + 100' }, 't.id = 3')
    .whenNotMatchedBySourceDelete()
    .execute()
  assert.equal(metrics.numSourceRows, 4)
  assert.equal(metrics.numTargetRowsInserted, 2)
  assert.equal(metrics.numTargetRowsUpdated, 2)
  assert.equal(metrics.numTargetRowsDeleted, 2)
  assert.deepEqual(await sorted(table), [
    { id: 1, name: 'ann2', age: 31 },
    { id: 3, name: 'cy', age: 150 },
    { id: 5, name: 'eve', age: 20 },
    { id: 6, name: 'inserted', age: 70 },
  ])
  await assert.rejects(table.merge(source, 'nonsense ==').whenMatchedDelete().execute(), DeltaError)
})

test('optimize compacts and Z-orders; vacuum, restore, checkpoint and cleanup', async () => {
  const table = await people()
  for (let i = 10; i < 14; i++) await writeDeltaLake(table, [{ id: BigInt(i), name: `n${i}`, age: BigInt(i) }], { mode: 'append' })
  assert.equal(table.files().length, 5)
  const compacted = await table.optimize.compact()
  assert.equal(compacted.numFilesAdded, 1)
  assert.equal(compacted.numFilesRemoved, 5)
  assert.equal(compacted.filesRemoved.totalFiles, 5)
  assert.equal(table.files().length, 1)
  const zordered = await table.optimize.zOrder(['id', 'age'])
  assert.equal(zordered.numFilesAdded, 1)
  assert.equal((await table.toRows()).length, 7)

  const dry = await table.vacuum({ retentionHours: 0, enforceRetentionDuration: false })
  assert.equal(dry.dryRun, true)
  assert.equal(dry.filesDeleted.length, 6)
  await assert.rejects(table.vacuum({ retentionHours: 0 }), DeltaError)
  const vacuumed = await table.vacuum({ retentionHours: 0, enforceRetentionDuration: false, dryRun: false })
  assert.deepEqual(vacuumed.filesDeleted.sort(), dry.filesDeleted.sort())
  for (const f of vacuumed.filesDeleted) assert.equal(fs.existsSync(path.join(table.tableUri().replace('file://', ''), f)), false)

  const restored = await table.restore(6, { ignoreMissingFiles: true })
  assert.equal(typeof restored.numRestoredFile, 'number')
  assert.equal(typeof restored.numRemovedFile, 'number')

  await table.createCheckpoint()
  const log = path.join(decodeURIComponent(new URL(table.tableUri()).pathname), '_delta_log')
  assert.ok(fs.readdirSync(log).some((f) => f.endsWith('.checkpoint.parquet')))
  assert.equal(await table.cleanupMetadata(), 0)
})

test('alter: constraints, columns, properties, features, name and description', async () => {
  const table = await people()
  await table.alter.addConstraint({ adult: 'age >= 18' })
  assert.equal(table.metadata().configuration['delta.constraints.adult'], 'age >= 18')
  await assert.rejects(writeDeltaLake(table, [{ id: 9n, name: 'kid', age: 5n }], { mode: 'append' }), (err) => err instanceof DeltaError && err.code === 'constraint_violation')
  await table.alter.dropConstraint('adult')
  await table.alter.dropConstraint('adult', { ifExists: true })
  await assert.rejects(table.alter.dropConstraint('adult'), DeltaError)
  await table.alter.addColumns([{ name: 'email', type: 'string' }])
  assert.deepEqual(table.schema().fields.map((f) => f.name), ['id', 'name', 'age', 'email'])
  await table.alter.setTableProperties({ 'delta.enableChangeDataFeed': 'true' })
  assert.equal(table.metadata().configuration['delta.enableChangeDataFeed'], 'true')
  await table.alter.addFeature('deletionVectors')
  assert.ok(table.protocol().writerFeatures.includes('deletionVectors'))
  await table.alter.setTableName('people')
  await table.alter.setTableDescription('who is who')
  assert.equal(table.metadata().name, 'people')
  assert.equal(table.metadata().description, 'who is who')
  await assert.rejects(table.alter.setTableProperties({ 'delta.appendOnly': 'maybe' }), DeltaError)
})

test('the change data feed of a table written here and of the shared test table', async () => {
  const table = await people(undefined, { configuration: { 'delta.enableChangeDataFeed': 'true' } })
  await table.delete('id = 1')
  await table.update({ age: '0' }, { predicate: 'id = 2' })
  const feed = await (await table.loadCdf({ startingVersion: 0 })).toRows({ int64AsNumber: true })
  const kinds = feed.map((r) => `${r._change_type}@${r._commit_version}:${r.id}`).sort()
  assert.deepEqual(kinds, [
    'delete@1:1',
    'insert@0:1',
    'insert@0:2',
    'insert@0:3',
    'update_postimage@2:2',
    'update_preimage@2:2',
  ])
  assert.ok(feed.every((r) => r._commit_timestamp instanceof Date))
  const later = await (await table.loadCdf({ startingVersion: 1, endingVersion: 1, columns: ['id'] })).toArrowTable()
  assert.equal(later.numRows, 1)
  await assert.rejects(table.loadCdf({ startingVersion: 9 }), DeltaInvalidArgumentError)

  const shared = await DeltaTable.open(path.join(tablesDir, 'cdf-table'))
  const changes = await (await shared.loadCdf({ startingVersion: 0 })).toArrowTable()
  assert.ok(changes.numRows > 0)
  assert.ok(changes.schema.fields.some((f) => f.name === '_change_type'))
})

test('AbortSignal: an aborted call rejects with the reason and commits nothing', async () => {
  const table = await people()
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(table.delete('id = 1', { signal: controller.signal }), { name: 'AbortError' })
  await assert.rejects(table.toArrowTable({ signal: controller.signal }), { name: 'AbortError' })
  await assert.rejects(writeDeltaLake(table, [{ id: 9n, name: 'x', age: 1n }], { mode: 'append', signal: controller.signal }), { name: 'AbortError' })

  // Aborted while the input is still streaming: the write stops and nothing is committed.
  const live = new AbortController()
  async function* slow() {
    for (let i = 0; ; i++) {
      if (i === 3) live.abort()
      const batch = await (await people([[BigInt(100 + i), 'x', 1]])).toArrowTable()
      yield* batch.batches
    }
  }
  await assert.rejects(writeDeltaLake(table, slow(), { mode: 'append', signal: live.signal }), { name: 'AbortError' })
  await table.updateIncremental()
  assert.equal(table.version(), 0)
  assert.equal((await table.toRows()).length, 3)
})

test('AbortSignal stops a read in flight, and breaking out of a scan stops it', async () => {
  const uri = tempDir()
  const arrow = require('apache-arrow')
  const n = 400000
  const data = arrow.tableFromArrays({ id: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), v: Float64Array.from({ length: n }, (_, i) => i) })
  await writeDeltaLake(uri, data, { targetFileSize: 256 * 1024 })
  const table = await DeltaTable.open(uri)
  const controller = new AbortController()
  // Aborted on the next turn of the loop: the read of 400,000 rows is still running then.
  setImmediate(() => controller.abort())
  await assert.rejects(table.toArrowTable({ signal: controller.signal }), { name: 'AbortError' })

  let seen = 0
  for await (const chunk of table.scan({ batchSize: 1000 })) {
    seen += chunk.length
    if (seen > 10000) break
  }
  assert.ok(seen > 10000)
  assert.equal((await table.toArrowTable()).numRows, n, 'the table is still readable')
})
