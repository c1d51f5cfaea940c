'use strict'
// Writes from every kind of input, read back: append, overwrite, partitions, replaceWhere,
// schema evolution, time travel, the plain-row types, and streamed input.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const arrow = require('apache-arrow')
const { DeltaTable, writeDeltaLake, SchemaMismatchError, DeltaError } = require('..')
const { tempDir } = require('./support/helpers')

const ids = async (table) => (await table.toRows({ int64AsNumber: true })).map((r) => r.id).sort((a, b) => a - b)

test('writes an apache-arrow Table, appends and overwrites, and travels in time', async () => {
  const uri = path.join(tempDir(), 't')
  const first = arrow.tableFromArrays({ id: BigInt64Array.from([1n, 2n, 3n]), name: ['a', 'b', 'c'] })
  assert.equal(await writeDeltaLake(uri, first), 0)
  await assert.rejects(writeDeltaLake(uri, first), (err) => err instanceof DeltaError && err.code === 'already_exists')
  assert.equal(await writeDeltaLake(uri, first, { mode: 'ignore' }), 0)
  assert.equal(await writeDeltaLake(uri, arrow.tableFromArrays({ id: BigInt64Array.from([4n]), name: ['d'] }), { mode: 'append' }), 1)
  const table = await DeltaTable.open(uri)
  assert.equal(table.version(), 1)
  assert.deepEqual(await ids(table), [1, 2, 3, 4])
  assert.equal(await writeDeltaLake(table, [{ id: 9, name: 'z' }], { mode: 'overwrite' }), 2)
  assert.equal(table.version(), 2, 'a DeltaTable target moves to the new version')
  assert.deepEqual(await ids(table), [9])

  assert.equal(await table.loadVersion(0), 0)
  assert.deepEqual(await ids(table), [1, 2, 3])
  const v1 = await DeltaTable.open(uri, { version: 1 })
  assert.deepEqual(await ids(v1), [1, 2, 3, 4])
  const history = await table.updateIncremental().then(() => table.history())
  assert.deepEqual(history.map((h) => h.version), [2, 1, 0])
  assert.deepEqual(history.map((h) => h.operation), ['WRITE', 'WRITE', 'WRITE'])
  assert.equal((await table.history({ limit: 1 })).length, 1)
  const at = new Date(history[1].timestamp)
  await table.loadVersion(at)
  assert.equal(table.version(), 1)
  const byTime = await DeltaTable.open(uri, { timestamp: at })
  assert.equal(byTime.version(), 1)
  assert.equal(await DeltaTable.exists(uri), true)
  assert.equal(await DeltaTable.exists(path.join(uri, 'nothing')), false)
})

test('partitions, replaceWhere and file listings', async () => {
  const uri = tempDir()
  const rows = [
    { id: 1n, part: 'a', value: 1.5 },
    { id: 2n, part: 'b', value: 2.5 },
    { id: 3n, part: 'a', value: null },
  ]
  await writeDeltaLake(uri, rows, { partitionBy: ['part'], name: 'parts', description: 'by part', configuration: { 'delta.appendOnly': 'false' } })
  const table = await DeltaTable.open(uri)
  const meta = table.metadata()
  assert.deepEqual(meta.partitionColumns, ['part'])
  assert.equal(meta.name, 'parts')
  assert.equal(meta.description, 'by part')
  assert.equal(meta.configuration['delta.appendOnly'], 'false')
  assert.deepEqual(table.partitions().map((p) => p.part).sort(), ['a', 'b'])
  assert.equal(table.files({ predicate: "part = 'a'" }).length, 1)
  assert.ok(table.files().every((f) => f.startsWith('part=')))
  assert.ok(table.fileUris().every((f) => path.isAbsolute(f)))

  await writeDeltaLake(table, [{ id: 7n, part: 'a', value: 7 }], { mode: 'overwrite', predicate: "part = 'a'" })
  assert.deepEqual(await ids(table), [2, 7])
  const onlyB = await table.toRows({ predicate: "part = 'b'", columns: ['value', 'id'] })
  assert.deepEqual(onlyB, [{ value: 2.5, id: 2n }])
  await assert.rejects(writeDeltaLake(uri, [{ id: 1n, part: 'x', value: 1 }], { mode: 'append', partitionBy: ['id'] }), DeltaError)
})

test('rows of every plain type survive a round trip', async () => {
  const uri = tempDir()
  const when = new Date('2024-05-06T07:08:09.123Z')
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('small', new arrow.Int32(), true),
    new arrow.Field('flag', new arrow.Bool(), true),
    new arrow.Field('text', new arrow.Utf8(), true),
    new arrow.Field('at', new arrow.TimestampMicrosecond('UTC'), true),
    new arrow.Field('day', new arrow.DateDay(), true),
    new arrow.Field('blob', new arrow.Binary(), true),
    new arrow.Field('tags', new arrow.List(new arrow.Field('element', new arrow.Utf8(), true)), true),
    new arrow.Field('point', new arrow.Struct([new arrow.Field('x', new arrow.Float64(), true), new arrow.Field('y', new arrow.Float64(), true)]), true),
  ])
  const rows = [
    { id: 1n, small: 5, flag: true, text: 'é☃', at: when, day: new Date('2024-05-06T00:00:00Z'), blob: Buffer.from([0, 255]), tags: ['a', 'b'], point: { x: 1, y: 2 } },
    { id: 2n, small: null, flag: null, text: null, at: null, day: null, blob: null, tags: null, point: null },
  ]
  await writeDeltaLake(uri, rows, { schema })
  const table = await DeltaTable.open(uri)
  assert.deepEqual(table.schema().fields.map((f) => [f.name, f.type, f.nullable]).slice(0, 7), [
    ['id', 'long', false],
    ['small', 'integer', true],
    ['flag', 'boolean', true],
    ['text', 'string', true],
    ['at', 'timestamp', true],
    ['day', 'date', true],
    ['blob', 'binary', true],
  ])
  const back = (await table.toRows()).sort((a, b) => Number(a.id - b.id))
  assert.deepEqual(back, rows)
  assert.equal(typeof (await table.toRows({ int64AsNumber: true }))[0].id, 'number')
  const arrowTable = await table.toArrowTable()
  assert.equal(arrowTable.numRows, 2)
  assert.deepEqual(arrowTable.schema.fields.map((f) => f.name), schema.fields.map((f) => f.name))
})

test('decimals read as strings; inferred types for rows without a schema', async () => {
  const uri = tempDir()
  const values = arrow.makeVector({
    type: new arrow.Decimal(2, 10, 128),
    data: new Uint32Array([12345, 0, 0, 0, 0xffffffff - 99 + 1, 0xffffffff, 0xffffffff, 0xffffffff]),
  })
  const data = new arrow.Table({ amount: values, n: arrow.vectorFromArray([1.25, 2]) })
  await writeDeltaLake(uri, data)
  const table = await DeltaTable.open(uri)
  assert.equal(table.schema().fields[0].type, 'decimal(10,2)')
  assert.deepEqual(await table.toRows(), [{ amount: '123.45', n: 1.25 }, { amount: '-0.99', n: 2 }])

  const inferred = tempDir()
  await writeDeltaLake(inferred, [{ a: 1, b: 'x', c: true, d: 2n, e: [1, 2], f: { g: 'h' } }])
  const types = (await DeltaTable.open(inferred)).schema().fields.map((f) => f.type)
  assert.deepEqual(types.slice(0, 4), ['double', 'string', 'boolean', 'long'])
  assert.equal(types[4].type, 'array')
  assert.equal(types[5].type, 'struct')
})

test('streams batches from an async iterable, IPC bytes and another table\'s scan', async () => {
  const uri = tempDir()
  async function* batches() {
    for (let i = 0; i < 20; i++) {
      const start = BigInt(i * 1000)
      const id = BigInt64Array.from({ length: 1000 }, (_, j) => start + BigInt(j))
      yield* arrow.tableFromArrays({ id, label: Array.from({ length: 1000 }, (_, j) => `r${j}`) }).batches
    }
  }
  assert.equal(await writeDeltaLake(uri, batches()), 0)
  const table = await DeltaTable.open(uri)
  assert.equal((await table.toArrowTable()).numRows, 20000)

  const copy = tempDir()
  await writeDeltaLake(copy, table.scan({ batchSize: 777 }))
  const copied = await DeltaTable.open(copy)
  assert.equal((await copied.toArrowTable()).numRows, 20000)

  const bytes = arrow.tableToIPC(arrow.tableFromArrays({ id: BigInt64Array.from([5n]), label: ['x'] }), 'file')
  await writeDeltaLake(copied, bytes, { mode: 'append' })
  assert.equal((await copied.toArrowTable({ predicate: "label = 'x'" })).numRows, 1)

  let chunks = 0
  const reader = await arrow.RecordBatchReader.from(table.scan({ batchSize: 5000, columns: ['id'] }))
  for await (const batch of reader) {
    chunks++
    assert.equal(batch.schema.fields.length, 1)
  }
  assert.ok(chunks >= 4)
})

test('schema evolution: merge adds columns, a mismatch is refused', async () => {
  const uri = tempDir()
  await writeDeltaLake(uri, [{ id: 1n }])
  await assert.rejects(writeDeltaLake(uri, [{ id: 2n, extra: 'x' }], { mode: 'append' }), SchemaMismatchError)
  await writeDeltaLake(uri, [{ id: 2n, extra: 'x' }], { mode: 'append', schemaMode: 'merge' })
  const table = await DeltaTable.open(uri)
  assert.deepEqual(table.schema().fields.map((f) => f.name), ['id', 'extra'])
  const rows = (await table.toRows()).sort((a, b) => Number(a.id - b.id))
  assert.deepEqual(rows, [{ id: 1n, extra: null }, { id: 2n, extra: 'x' }])
  const txn = tempDir()
  await writeDeltaLake(txn, [{ id: 1n }], { commitProperties: { appTransactions: [{ appId: 'job', version: 7 }], customMetadata: { userMetadata: 'hi' } } })
  const t = await DeltaTable.open(txn)
  assert.equal(t.transactionVersion('job'), 7)
  assert.equal(t.transactionVersion('other'), undefined)
  assert.equal((await t.history())[0].userMetadata, 'hi')
})

test('whole reads come in batches of 65,536 rows unless batchSize says otherwise', async () => {
  const uri = path.join(tempDir(), 't')
  const rows = 100_000
  await writeDeltaLake(uri, arrow.tableFromArrays({ id: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)) }))
  const table = await DeltaTable.open(uri)
  const lengths = async (options) => (await table.toArrowTable(options)).batches.map((b) => b.numRows)
  assert.deepEqual(await lengths(), [65536, rows - 65536])
  assert.deepEqual(await lengths({ batchSize: 40_000 }), [40_000, 40_000, 20_000])
  // A streamed scan keeps the scan's default.
  assert.equal((await table.scan().toArrowTable()).batches[0].numRows, 8192)
})
