'use strict'
// Benchmark of the Node package against the Rust crate on the same data: a full scan into an
// apache-arrow Table (Rust: into memory), a write of the whole data set, and `toRows` in rows/s.
//
//   npm run build:release
//   cargo build --release --target x86_64-unknown-linux-gnu -p deltalake-node --example baseline
//   node bench/bench.js [--rows N] [--runs N] [--dir DIR] [--baseline PATH]
//
// The data has the benchmark suite's five columns, 10,000,000 rows by default.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const arrow = require('apache-arrow')
const { DeltaTable, writeDeltaLake } = require('..')

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : process.argv[i + 1]
}

const ROWS = Number(option('rows', 10_000_000))
const RUNS = Number(option('runs', 3))
const BATCH = 8192
const DISTINCT_KEYS = 10_000
const FIRST_TS_MS = 1_704_067_200_000
const KEY_PREFIX = Buffer.from('key-')

// The benchmark suite's columns (crates/benchmarks/src/data.rs): id, key (one of 10,000),
// value, ts (a millisecond apart), flag; scattered by a multiplicative hash instead of SplitMix64,
// which JavaScript would compute with slow BigInts.
function batchOf(first, length) {
  const id = new BigInt64Array(length)
  const keyBytes = new Uint8Array(length * 9)
  const keyOffsets = Int32Array.from({ length: length + 1 }, (_, i) => i * 9)
  const value = new Float64Array(length)
  const ts = new BigInt64Array(length)
  const flags = new Uint8Array(Math.ceil(length / 8))
  for (let i = 0; i < length; i++) {
    const row = first + i
    const h = Math.imul(row, 0x9e3779b1) >>> 0
    id[i] = BigInt(row)
    keyBytes.set(KEY_PREFIX, i * 9)
    let k = h % DISTINCT_KEYS
    for (let d = 8; d >= 4; d--) {
      keyBytes[i * 9 + d] = 48 + (k % 10)
      k = Math.floor(k / 10)
    }
    value[i] = (h / 2 ** 32) * 1000
    ts[i] = BigInt(FIRST_TS_MS + row) * 1000n
    if (h >>> 31 === 1) flags[i >> 3] |= 1 << (i & 7)
  }
  const make = (type, fields) => arrow.makeVector(arrow.makeData({ type, length, nullCount: 0, ...fields }))
  return new arrow.Table({
    id: arrow.makeVector(id),
    key: make(new arrow.Utf8(), { valueOffsets: keyOffsets, data: keyBytes }),
    value: arrow.makeVector(value),
    ts: make(new arrow.TimestampMicrosecond('UTC'), { data: ts }),
    flag: make(new arrow.Bool(), { data: flags }),
  }).batches[0]
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function time(runs, fn) {
  const seconds = []
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint()
    await fn(run)
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9)
  }
  return seconds
}

function rust(...args) {
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'deltalake-target')
  const binary = option('baseline', path.join(target, 'x86_64-unknown-linux-gnu', 'release', 'examples', 'baseline'))
  if (!fs.existsSync(binary)) {
    process.stderr.write(`no ${binary}: the Rust side is not measured\n`)
    return [NaN]
  }
  return JSON.parse(execFileSync(binary, args.map(String), { encoding: 'utf8' })).seconds
}

async function main() {
  const dir = fs.mkdtempSync(path.join(option('dir', os.tmpdir()), 'deltalake-node-bench-'))
  try {
    process.stderr.write(`making ${ROWS} rows...\n`)
    const batches = []
    for (let first = 0; first < ROWS; first += BATCH) batches.push(batchOf(first, Math.min(BATCH, ROWS - first)))
    const data = new arrow.Table(batches)
    const source = path.join(dir, 'source')
    await writeDeltaLake(source, data)

    const nodeWrite = await time(RUNS, (run) => writeDeltaLake(path.join(dir, `node-${run}`), data))
    const rustWrite = rust('write', source, dir, RUNS)
    const table = await DeltaTable.open(source)
    const nodeScan = await time(RUNS, async () => {
      const read = await table.toArrowTable()
      if (read.numRows !== ROWS) throw new Error(`read ${read.numRows} rows`)
    })
    const rustScan = rust('scan', source, RUNS)
    const rowsLimit = Math.min(ROWS, 1_000_000)
    let rowCount = 0
    const nodeRows = await time(RUNS, async () => {
      rowCount = (await table.toRows({ predicate: `id < ${rowsLimit}` })).length
    })

    const report = {
      rows: ROWS,
      runs: RUNS,
      scanSeconds: { node: median(nodeScan), rust: median(rustScan), ratio: median(nodeScan) / median(rustScan) },
      writeSeconds: { node: median(nodeWrite), rust: median(rustWrite), ratio: median(nodeWrite) / median(rustWrite) },
      toRows: { rows: rowCount, seconds: median(nodeRows), rowsPerSecond: Math.round(rowCount / median(nodeRows)) },
      loadAverage: os.loadavg()[0],
    }
    console.log(JSON.stringify(report, null, 2))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
