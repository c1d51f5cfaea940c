'use strict'
// Shared by the tests: where the test data is, the reference Python, temporary tables, and the
// canonical rendering of rows that support/expected_rows.py gives the reference's rows.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const repo = path.resolve(__dirname, '..', '..', '..')
const testdata = path.resolve(repo, '..', 'shared', 'testdata')
const tablesDir = path.join(testdata, 'tables')
const expectedDir = path.join(testdata, 'expected')

/** The reference Python interpreter (the `deltalake` PyPI package and pyarrow). */
function referencePython() {
  if (process.env.DELTA_REFERENCE_PYTHON) return process.env.DELTA_REFERENCE_PYTHON
  const script = path.join(repo, 'scripts', 'setup-python.sh')
  const python = execFileSync(script, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()
  process.env.DELTA_REFERENCE_PYTHON = python
  return python
}

/**
 * Run `code` with the reference Python; returns its standard output. The script ends with
 * `os._exit(0)`: deltalake 1.6.6 sometimes aborts at interpreter exit ("terminate called without
 * an active exception") after a successful run.
 */
function runPython(code, args = []) {
  const script = `${code}\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n`
  return execFileSync(referencePython(), ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })
}

/** A fresh temporary directory, removed when the process exits. */
function tempDir(prefix = 'deltalake-node-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A plain value in the canonical form of support/expected_rows.py. */
function canon(value, decimal = false) {
  if (value === null || value === undefined) return null
  if (typeof value === 'boolean') return value
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return decimal ? canon(Number(value)) : value
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN'
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity'
    return Number.isInteger(value) ? String(value) : value
  }
  if (value instanceof Date) return String(value.getTime())
  if (Buffer.isBuffer(value)) return value.toString('hex')
  if (Array.isArray(value)) return value.map((v) => canon(v))
  if (value instanceof Map) {
    const out = {}
    for (const [k, v] of value) out[String(canon(k))] = canon(v)
    return out
  }
  if (typeof value === 'object') {
    const out = {}
    for (const [k, v] of Object.entries(value)) out[k] = canon(v)
    return out
  }
  throw new TypeError(`no canonical form for ${typeof value}`)
}

/** JSON with sorted keys, as Python's json.dumps(sort_keys=True) writes it. */
function sortedJson(value) {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${sortedJson(value[k])}`).join(', ')}}`
  }
  if (typeof value === 'number') return JSON.stringify(value)
  return JSON.stringify(value)
}

/** Rows (from toRows) rendered canonically and sorted; `decimals` names the decimal columns. */
function renderRows(rows, decimals = new Set()) {
  return rows
    .map((row) => {
      const out = {}
      for (const [k, v] of Object.entries(row)) out[k] = canon(v, decimals.has(k))
      return sortedJson(out)
    })
    .sort()
}

module.exports = { repo, testdata, tablesDir, expectedDir, referencePython, runPython, tempDir, canon, renderRows, sortedJson }
