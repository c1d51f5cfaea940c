// The package as an ES module: the same classes as through require.
import test from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import deltalake, { DeltaTable, TableNotFoundError, writeDeltaLake } from 'deltalake'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))

test('import and require give the same objects', async () => {
  const cjs = require('deltalake')
  assert.equal(DeltaTable, cjs.DeltaTable)
  assert.equal(writeDeltaLake, cjs.writeDeltaLake)
  assert.equal(deltalake.TableNotFoundError, TableNotFoundError)
  const table = await DeltaTable.open(path.resolve(here, '..', '..', '..', 'shared', 'testdata', 'tables', 'simple_table'))
  assert.equal((await table.toArrowTable()).numRows, 3)
})
