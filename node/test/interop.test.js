'use strict'
// Interoperability with the reference `deltalake` Python package: tables written here read to the
// same rows there, and the reverse.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { DeltaTable, writeDeltaLake } = require('..')
const { runPython, tempDir, renderRows } = require('./support/helpers')

const READ_WITH_REFERENCE = `
import json, sys
from deltalake import DeltaTable
t = DeltaTable(sys.argv[1])
rows = t.to_pyarrow_table().to_pylist()
def canon(v):
    import datetime, decimal, calendar
    if v is None or isinstance(v, (bool, str)): return v
    if isinstance(v, int): return str(v)
    if isinstance(v, float): return str(int(v)) if v.is_integer() else v
    if isinstance(v, decimal.Decimal): return canon(float(v))
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None: v = v.astimezone(datetime.timezone.utc)
        return str(calendar.timegm(v.utctimetuple()) * 1000 + v.microsecond // 1000)
    if isinstance(v, datetime.date): return str((v - datetime.date(1970, 1, 1)).days * 86400000)
    if isinstance(v, bytes): return v.hex()
    if isinstance(v, list): return [canon(x) for x in v]
    if isinstance(v, dict): return {k: canon(x) for k, x in v.items()}
    raise TypeError(type(v))
print(json.dumps({"version": t.version(), "rows": [json.dumps(canon(r), sort_keys=True) for r in rows]}))
`

test('a table written from Node reads to the same rows in the reference package', async () => {
  const uri = tempDir()
  const rows = [
    { id: 1n, name: 'ann', score: 1.5, at: new Date('2024-01-02T03:04:05.006Z'), tags: ['x', 'y'], ok: true, part: 'a' },
    { id: 2n, name: null, score: 2, at: null, tags: null, ok: false, part: 'b' },
    { id: 3n, name: 'cy', score: -0.25, at: new Date('1999-12-31T23:59:59.999Z'), tags: [], ok: null, part: 'a' },
  ]
  await writeDeltaLake(uri, rows, { partitionBy: ['part'] })
  const table = await DeltaTable.open(uri)
  await table.delete("name = 'cy'")
  await writeDeltaLake(table, [{ id: 4n, name: 'dee', score: 4, at: null, tags: ['z'], ok: true, part: 'c' }], { mode: 'append' })
  const theirs = JSON.parse(runPython(READ_WITH_REFERENCE, [uri]))
  assert.equal(theirs.version, table.version())
  assert.deepEqual(theirs.rows.sort(), renderRows(await table.toRows()))
  assert.equal(theirs.rows.length, 3)
})

test('a table written by the reference package reads to the same rows here', async () => {
  const uri = path.join(tempDir(), 'from-python')
  runPython(
    `
import sys, datetime, decimal
import pyarrow as pa
from deltalake import write_deltalake, DeltaTable
data = pa.table({
    "id": pa.array([1, 2, 3], pa.int64()),
    "small": pa.array([1, None, 3], pa.int32()),
    "name": ["a", None, "c"],
    "amount": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")], pa.decimal128(10, 2)),
    "at": pa.array([datetime.datetime(2024, 5, 6, 7, 8, 9, 123000), None, datetime.datetime(1970, 1, 1)], pa.timestamp("us", tz="UTC")),
    "day": pa.array([datetime.date(2024, 5, 6), None, datetime.date(1969, 12, 31)]),
    "blob": pa.array([b"\\x00\\x01", None, b""]),
    "nested": pa.array([{"x": 1, "y": [1, 2]}, None, {"x": None, "y": []}]),
    "part": ["p", "q", "p"],
})
write_deltalake(sys.argv[1], data, partition_by=["part"])
t = DeltaTable(sys.argv[1])
t.delete("id = 2")
write_deltalake(sys.argv[1], data.slice(1, 1), mode="append")
`,
    [uri],
  )
  const table = await DeltaTable.open(uri)
  assert.equal(table.version(), 2)
  const theirs = JSON.parse(runPython(READ_WITH_REFERENCE, [uri]))
  const ours = await table.toRows()
  assert.deepEqual(renderRows(ours, new Set(['amount'])), theirs.rows.sort())
  const two = ours.find((r) => r.id === 2n)
  assert.equal(two.amount, null)
  const one = ours.find((r) => r.id === 1n)
  assert.equal(one.amount, '1.25')
  assert.deepEqual(one.blob, Buffer.from([0, 1]))
  assert.deepEqual(one.nested, { x: 1n, y: [1n, 2n] })
  assert.deepEqual(one.at, new Date('2024-05-06T07:08:09.123Z'))
})
