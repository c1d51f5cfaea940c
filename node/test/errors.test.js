'use strict'
// Bad input rejects with the right class and never crashes the process.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const fs = require('node:fs')
const arrow = require('apache-arrow')
const deltalake = require('..')
const {
  DeltaTable,
  writeDeltaLake,
  DeltaError,
  TableNotFoundError,
  DeltaProtocolError,
  SchemaMismatchError,
  DeltaInvalidArgumentError,
  CommitFailedError,
} = deltalake
const { tempDir, tablesDir } = require('./support/helpers')

test('the error classes form a hierarchy with codes', () => {
  for (const Class of [TableNotFoundError, DeltaProtocolError, SchemaMismatchError, CommitFailedError, DeltaInvalidArgumentError]) {
    const err = new Class('m', 'x')
    assert.ok(err instanceof DeltaError && err instanceof Error)
    assert.equal(err.name, Class.name)
    assert.equal(err.code, 'x')
  }
})

test('a missing table and a missing version', async () => {
  const missing = path.join(tempDir(), 'nothing')
  await assert.rejects(DeltaTable.open(missing), (err) => err instanceof TableNotFoundError && err.code === 'not_found' && err.message.includes('nothing'))
  await assert.rejects(DeltaTable.open(path.join(tablesDir, 'simple_table'), { version: 99 }), TableNotFoundError)
  const t = await DeltaTable.open(path.join(tablesDir, 'simple_table'))
  await assert.rejects(t.loadVersion(1234), TableNotFoundError)
  assert.equal(t.version(), 4, 'a failed load keeps the loaded version')
})

test('an unsupported reader feature is a protocol error', async () => {
  await assert.rejects(DeltaTable.open(path.join(tablesDir, 'simple_table_features')), (err) => err instanceof DeltaProtocolError && err.code === 'protocol')
})

test('wrong schema, invalid predicates and bad options', async () => {
  const uri = tempDir()
  await writeDeltaLake(uri, [{ id: 1n, name: 'a' }])
  const table = await DeltaTable.open(uri)
  await assert.rejects(writeDeltaLake(uri, arrow.tableFromArrays({ id: ['not a number'] }), { mode: 'append' }), SchemaMismatchError)
  await assert.rejects(table.toRows({ predicate: 'id >' }), DeltaInvalidArgumentError)
  await assert.rejects(table.toRows({ predicate: 'nope = 1' }), DeltaError)
  await assert.rejects(table.delete('id ==== 2'), (err) => err instanceof DeltaInvalidArgumentError && err.code === 'invalid_argument')
  await assert.rejects(table.update({ nope: '1' }), DeltaError)
  await assert.rejects(table.toRows({ columns: ['missing'] }), DeltaError)
  await assert.rejects(writeDeltaLake(uri, [{ id: 1n, name: 'a' }], { mode: 'append', schemaMode: 'sideways' }), DeltaInvalidArgumentError)
  await assert.rejects(writeDeltaLake(uri, Buffer.from('not arrow at all'), { mode: 'append' }), DeltaInvalidArgumentError)
  await assert.rejects(table.restore(0, { commitProperties: { customMetadata: 5 } }), DeltaInvalidArgumentError)
  assert.equal(table.version(), 0)
})

test('wrong argument types are TypeErrors, out-of-range numbers RangeErrors', async () => {
  const table = await DeltaTable.open(path.join(tablesDir, 'simple_table'))
  await assert.rejects(DeltaTable.open(42), TypeError)
  await assert.rejects(DeltaTable.open('x', { version: 'one' }), TypeError)
  await assert.rejects(DeltaTable.open('x', { version: -1 }), RangeError)
  await assert.rejects(DeltaTable.open('x', { version: 1.5 }), RangeError)
  await assert.rejects(DeltaTable.open('x', { timestamp: {} }), TypeError)
  await assert.rejects(DeltaTable.open('x', { timestamp: 'not a date' }), RangeError)
  await assert.rejects(DeltaTable.open('x', 'options'), TypeError)
  await assert.rejects(table.loadVersion('3'), TypeError)
  await assert.rejects(table.toRows({ columns: 'id' }), TypeError)
  await assert.rejects(table.toRows({ batchSize: 0 }), RangeError)
  await assert.rejects(table.delete(5), TypeError)
  await assert.rejects(table.update('id = 1'), TypeError)
  await assert.rejects(table.update({ id: 1 }), TypeError)
  await assert.rejects(table.history({ limit: 0 }), RangeError)
  await assert.rejects(writeDeltaLake(tempDir(), 'data'), TypeError)
  await assert.rejects(writeDeltaLake(tempDir(), [1, 2]), TypeError)
  await assert.rejects(writeDeltaLake(tempDir(), []), TypeError)
  await assert.rejects(writeDeltaLake(tempDir(), [{ a: 1 }], { mode: 'sideways' }), RangeError)
  await assert.rejects(writeDeltaLake(tempDir(), [{ a: Symbol('x') }]), TypeError)
  await assert.rejects(writeDeltaLake(tempDir(), [{ a: 1 }], { signal: 'yes' }), TypeError)
  assert.throws(() => table.merge({}, 'a = b'), TypeError)
  assert.throws(() => table.files({ predicate: 1 }), TypeError)
  assert.throws(() => new DeltaTable({}), TypeError)
})

test('a closed table rejects every call', async () => {
  const table = await DeltaTable.open(path.join(tablesDir, 'simple_table'))
  table.close()
  assert.throws(() => table.version(), DeltaInvalidArgumentError)
  assert.throws(() => table.schema(), /closed/)
  await assert.rejects(table.toArrowTable(), /closed/)
  await assert.rejects(table.delete(), DeltaError)
  await assert.rejects(writeDeltaLake(table, [{ id: 1n }], { mode: 'append' }), DeltaError)
  table.close()
})

test('a data file missing from storage is reported, naming it', async () => {
  const uri = tempDir()
  await writeDeltaLake(uri, [{ id: 1n }])
  const table = await DeltaTable.open(uri)
  const [file] = table.fileUris()
  fs.rmSync(file)
  await assert.rejects(table.toArrowTable(), (err) => err instanceof DeltaError && ['file_not_found', 'io'].includes(err.code) && err.message.includes(path.basename(file)))
})

test('a stream is read once', async () => {
  const table = await DeltaTable.open(path.join(tablesDir, 'simple_table'))
  const stream = table.scan()
  assert.equal((await stream.toArrowTable()).numRows, 3)
  await assert.rejects(stream.toArrowTable(), DeltaInvalidArgumentError)
})
