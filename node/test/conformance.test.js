'use strict'
// Every table of the shared test data read through the package matches what the reference
// reader saw: version, files, protocol, partition columns, row counts, columns and rows.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const arrow = require('apache-arrow')
const { DeltaTable, DeltaProtocolError } = require('..')
const { tablesDir, expectedDir, referencePython, renderRows, tempDir } = require('./support/helpers')
const { execFileSync } = require('node:child_process')

// File names decoded until they stop changing (the reference lists some partition directories
// encoded twice); names with a stray '%' stay as they are.
function decode(name) {
  for (;;) {
    let next
    try {
      next = decodeURIComponent(name)
    } catch {
      return name
    }
    if (next === name) return name
    name = next
  }
}

// Column mapping (name mode): the reference returns nulls for the non-partition column although
// its data files hold the values (the Rust conformance test says the same).
const REFERENCE_ROWS_WRONG = new Set(['table_with_column_mapping'])

// pyarrow's names of the apache-arrow types these tables use.
function pyarrowType(type) {
  const T = arrow.Type
  switch (type.typeId) {
    case T.Int:
      return `${type.isSigned ? '' : 'u'}int${type.bitWidth}`
    case T.Float:
      return ['halffloat', 'float', 'double'][type.precision]
    case T.Utf8:
      return 'string'
    case T.Bool:
      return 'bool'
    case T.Binary:
      return 'binary'
    case T.DateDay:
    case T.Date:
      return 'date32[day]'
    case T.Decimal:
      return `decimal${type.bitWidth}(${type.precision}, ${type.scale})`
    default:
      return undefined
  }
}

let expectedRows
test.before(() => {
  expectedRows = tempDir('deltalake-expected-')
  execFileSync(referencePython(), [path.join(__dirname, 'support', 'expected_rows.py'), expectedDir, expectedRows])
})

for (const table of fs.readdirSync(expectedDir).sort()) {
  test(`reads ${table} as the reference did`, async () => {
    const meta = JSON.parse(fs.readFileSync(path.join(expectedDir, table, 'meta.json'), 'utf8'))
    const location = path.join(tablesDir, table)
    if (table === 'simple_table_features') {
      await assert.rejects(DeltaTable.open(location), (err) => err instanceof DeltaProtocolError && /blahabl/.test(err.message))
      return
    }
    const dt = await DeltaTable.open(location)
    assert.equal(dt.version(), meta.version)
    assert.deepEqual(dt.files().map(decode).sort(), meta.files.map(decode).sort())
    const protocol = dt.protocol()
    assert.equal(protocol.minReaderVersion, meta.min_reader_version)
    assert.equal(protocol.minWriterVersion, meta.min_writer_version)
    assert.deepEqual(dt.metadata().partitionColumns, meta.partition_columns ?? [])

    const hasData = dt.fileUris().every((f) => fs.existsSync(f))
    if (!hasData || meta.num_rows === undefined) return
    const schema = dt.arrowSchema()
    if (meta.columns) {
      const ours = schema.fields.map((f) => f.name)
      assert.deepEqual(ours, meta.columns.map((c) => c.slice(0, c.indexOf(': '))))
      schema.fields.forEach((f, i) => {
        const name = pyarrowType(f.type)
        if (name) assert.equal(`${f.name}: ${name}`, meta.columns[i], `column ${f.name}`)
      })
    }
    if (meta.num_rows > 200000) {
      // The large table: count through the streamed scan (a row count, not a row comparison).
      let rows = 0
      for await (const batch of dt.scan({ columns: ['cases'] }).batches()) rows += batch.numRows
      assert.equal(rows, meta.num_rows)
      return
    }
    const rows = await dt.toRows()
    assert.equal(rows.length, meta.num_rows)
    const file = path.join(expectedRows, `${table}.jsonl`)
    if (!fs.existsSync(file) || REFERENCE_ROWS_WRONG.has(table)) return
    const decimals = new Set(schema.fields.filter((f) => f.type.typeId === arrow.Type.Decimal).map((f) => f.name))
    const theirs = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).sort()
    assert.deepEqual(renderRows(rows, decimals), theirs)
  })
}
