'use strict'
// The public API of the `deltalake` package over the native addon (native.js, made by napi-rs):
// argument checks, JavaScript values in and out, error classes, AbortSignal and async iteration.

const arrow = require('apache-arrow')
const native = require('./native.js')

// ---------------------------------------------------------------------------------------------
// Errors

/** The base class of every error of a Delta table operation; `code` is the core's error kind. */
class DeltaError extends Error {
  constructor(message, code = 'internal', options) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}
/** No table (or no such version of it) at the location. */
class TableNotFoundError extends DeltaError {}
/** The log is invalid, or the table needs a feature this implementation does not support. */
class DeltaProtocolError extends DeltaError {}
/** A commit failed: a conflicting concurrent commit, retries exhausted, a transaction already committed. */
class CommitFailedError extends DeltaError {}
/** Data or a schema does not fit the table's schema. */
class SchemaMismatchError extends DeltaError {}
/** A bad predicate, option, mode or version range. */
class DeltaInvalidArgumentError extends DeltaError {}
/** Valid, but not implemented. */
class NotSupportedError extends DeltaError {}

const ERROR_CLASSES = {
  not_found: TableNotFoundError,
  protocol: DeltaProtocolError,
  commit_conflict: CommitFailedError,
  schema_mismatch: SchemaMismatchError,
  invalid_argument: DeltaInvalidArgumentError,
  not_supported: NotSupportedError,
}

// What the native addon's own argument conversion reports (napi-rs statuses).
const NAPI_TYPE_CODES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected', 'NumberExpected',
  'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected', 'ArrayBufferExpected',
])

const KIND_PREFIX = /^\[deltalake:([a-z_]+)\] ([\s\S]*)$/

/** The error a native error stands for: a DeltaError subclass by the core's kind, a TypeError
 * for an argument of the wrong type, the abort reason when `signal` aborted. */
function translate(err, signal) {
  if (!(err instanceof Error)) return err
  const match = KIND_PREFIX.exec(err.message)
  if (match) {
    const [, code, message] = match
    if (code === 'cancelled' && signal?.aborted) return signal.reason
    const Class = ERROR_CLASSES[code] ?? DeltaError
    return new Class(message, code)
  }
  if (NAPI_TYPE_CODES.has(err.code)) return new TypeError(err.message)
  return err
}

/** Call the native `fn`, turning its errors (thrown or rejected) into ours. */
async function call(fn, signal) {
  try {
    return await fn()
  } catch (err) {
    throw translate(err, signal)
  }
}

function callSync(fn) {
  try {
    return fn()
  } catch (err) {
    throw translate(err)
  }
}

/** Check that `signal` is an AbortSignal (or absent) that has not aborted yet. */
function checkSignal(signal) {
  if (signal === undefined || signal === null) return
  if (typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw new TypeError('signal must be an AbortSignal')
  }
  signal.throwIfAborted()
}

/** A native cancel token following `signal` (undefined without one); throws at once when the
 * signal already aborted. */
function tokenFor(signal) {
  if (signal === undefined || signal === null) return { token: undefined, done() {} }
  checkSignal(signal)
  const token = new native.AbortToken()
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  return { token, done: () => signal.removeEventListener('abort', onAbort) }
}

async function withSignal(signal, fn) {
  const { token, done } = tokenFor(signal)
  try {
    return await call(() => fn(token), signal)
  } finally {
    done()
  }
}

// ---------------------------------------------------------------------------------------------
// Argument checks

function checkString(value, name, optional = false) {
  if (value === undefined || value === null) {
    if (optional) return undefined
    throw new TypeError(`${name} must be a string`)
  }
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, not ${typeof value}`)
  return value
}

function checkOptions(options, name = 'options') {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${name} must be an object`)
  return options
}

function checkInteger(value, name, { min = 0, optional = true } = {}) {
  if (value === undefined || value === null) {
    if (optional) return undefined
    throw new TypeError(`${name} is required`)
  }
  if (typeof value === 'bigint') value = Number(value)
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, not ${typeof value}`)
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, not ${value}`)
  }
  return value
}

function checkBoolean(value, name) {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`)
  return value
}

function checkStrings(value, name) {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new TypeError(`${name} must be an array of strings`)
  }
  return value
}

function checkStringMap(value, name) {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${name} must be an object`)
  const out = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new TypeError(`${name}.${k} must be a string`)
    out[k] = v
  }
  return out
}

/** Milliseconds since the epoch of a Date, a number of milliseconds or a date string. */
function toMillis(value, name) {
  if (value === undefined || value === null) return undefined
  let ms
  if (value instanceof Date) ms = value.getTime()
  else if (typeof value === 'number') ms = value
  else if (typeof value === 'string') ms = Date.parse(value)
  else throw new TypeError(`${name} must be a Date, a number of milliseconds or a date string`)
  if (!Number.isFinite(ms)) throw new RangeError(`${name} is not a valid time: ${value}`)
  return ms
}

function commitSettings(options) {
  const commit = options.commitProperties ?? options.commit
  if (commit === undefined || commit === null) return undefined
  checkOptions(commit, 'commitProperties')
  return {
    maxCommitRetries: checkInteger(commit.maxCommitRetries, 'maxCommitRetries'),
    customMetadata: commit.customMetadata,
    appTransactions: commit.appTransactions?.map((t) => ({
      appId: checkString(t.appId, 'appId'),
      version: checkInteger(t.version, 'version'),
    })),
  }
}

function writerSettings(options) {
  const writer = options.writerProperties ?? {}
  checkOptions(writer, 'writerProperties')
  const settings = {
    compression: checkString(writer.compression, 'compression', true),
    compressionLevel: checkInteger(writer.compressionLevel, 'compressionLevel'),
    maxRowGroupSize: checkInteger(writer.maxRowGroupSize, 'maxRowGroupSize', { min: 1 }),
    targetFileSize: checkInteger(options.targetFileSize, 'targetFileSize', { min: 1 }),
  }
  return Object.values(settings).some((v) => v !== undefined) ? settings : undefined
}

// ---------------------------------------------------------------------------------------------
// Arrow data out: IPC chunks, apache-arrow tables, plain rows

// Work done on the JavaScript thread (decoding IPC messages, making row objects) gives the event
// loop a turn at least this often.
const SLICE_MS = 8

/** A function that yields to the event loop when the current slice of work has run long. */
function slicer() {
  let deadline = performance.now() + SLICE_MS
  return async () => {
    if (performance.now() < deadline) return
    await new Promise((resolve) => setImmediate(resolve))
    deadline = performance.now() + SLICE_MS
  }
}

/** An apache-arrow Table of the IPC stream in `chunks` (an array of buffers), decoded a batch at
 * a time with turns of the event loop between slices (the batches view the chunks: no column
 * data is copied). */
async function readIpc(chunks) {
  const reader = arrow.RecordBatchReader.from(chunks)
  const pause = slicer()
  const batches = []
  for (const batch of reader) {
    batches.push(batch)
    await pause()
  }
  return batches.length ? new arrow.Table(batches) : new arrow.Table(reader.schema)
}

/** A stream of Arrow record batches as IPC stream chunks: iterate it (`for await`) for the
 * chunks (`RecordBatchReader.from` reads them), or read it whole with `toArrowTable()` or
 * `toRows()`. Readable once. */
class ArrowStream {
  #raw
  #options
  #signal
  #used = false

  /** @internal */
  constructor(raw, options = {}, signal) {
    this.#raw = raw
    this.#options = options
    this.#signal = signal
  }

  #take() {
    if (this.#used) throw new DeltaInvalidArgumentError('this stream was already read', 'invalid_argument')
    this.#used = true
    return this.#raw
  }

  async *[Symbol.asyncIterator]() {
    const raw = this.#take()
    const { token, done } = tokenFor(this.#signal)
    try {
      for (;;) {
        const chunk = await call(() => raw.next(token), this.#signal)
        if (chunk === null) return
        yield chunk
      }
    } finally {
      done()
      raw.close()
    }
  }

  /** The apache-arrow RecordBatches, one at a time. */
  async *batches() {
    yield* await arrow.RecordBatchReader.from(this[Symbol.asyncIterator]())
  }

  /** The whole stream as an apache-arrow Table. */
  async toArrowTable() {
    const reader = await arrow.RecordBatchReader.from(this[Symbol.asyncIterator]())
    const batches = []
    for await (const batch of reader) batches.push(batch)
    return batches.length ? new arrow.Table(batches) : new arrow.Table(reader.schema)
  }

  /** The whole stream as plain objects (see `DeltaTable.toRows`). */
  async toRows(options = {}) {
    return rowsOf(await this.toArrowTable(), { ...this.#options, ...options })
  }
}

const T = arrow.Type

/** A converter of the values apache-arrow gives for `type` into plain JavaScript values. */
function converter(type, options) {
  switch (type.typeId) {
    case T.Int:
      if (type.bitWidth === 64 && options.int64AsNumber) return (v) => (v === null ? null : Number(v))
      return null
    case T.Timestamp:
    case T.Date:
      return (v) => (v === null ? null : new Date(v))
    case T.Binary:
    case T.LargeBinary:
    case T.FixedSizeBinary:
      return (v) => (v === null ? null : Buffer.from(v.buffer, v.byteOffset, v.byteLength))
    case T.Struct: {
      const fields = type.children.map((f) => [f.name, converter(f.type, options)])
      return (v) => {
        if (v === null) return null
        const out = {}
        for (const [name, convert] of fields) {
          const value = v[name] ?? null
          out[name] = convert ? convert(value) : value
        }
        return out
      }
    }
    case T.List:
    case T.LargeList:
    case T.FixedSizeList: {
      const convert = converter(type.children[0].type, options)
      return (v) => {
        if (v === null) return null
        const items = []
        for (const item of v) items.push(convert ? convert(item ?? null) : item ?? null)
        return items
      }
    }
    case T.Map: {
      const [keyField, valueField] = type.children[0].type.children
      const convertKey = converter(keyField.type, options)
      const convertValue = converter(valueField.type, options)
      const stringKeys = keyField.type.typeId === T.Utf8 || keyField.type.typeId === T.LargeUtf8
      return (v) => {
        if (v === null) return null
        const entries = []
        for (const [key, value] of v) {
          entries.push([
            convertKey ? convertKey(key) : key,
            convertValue ? convertValue(value ?? null) : value ?? null,
          ])
        }
        return stringKeys ? Object.fromEntries(entries) : new Map(entries)
      }
    }
    default:
      return null
  }
}

/** The rows of a RecordBatch (or Table) appended to `rows` as plain objects. */
function appendRows(rows, data, converters) {
  const start = rows.length
  for (let i = 0; i < data.numRows; i++) rows.push({})
  for (const [name, convert] of converters) {
    const column = data.getChild(name)
    let i = start
    for (const value of column) {
      const v = value ?? null
      rows[i++][name] = convert ? convert(v) : v
    }
  }
}

function convertersOf(schema, options) {
  return schema.fields.map((f) => [f.name, converter(f.type, options)])
}

/** The rows of an apache-arrow Table as plain objects. */
function tableToRows(table, options = {}) {
  const rows = []
  appendRows(rows, table, convertersOf(table.schema, options))
  return rows
}

/** `tableToRows` a batch at a time, with turns of the event loop between slices. */
async function rowsOf(table, options) {
  const converters = convertersOf(table.schema, options)
  const pause = slicer()
  const rows = []
  for (const batch of table.batches) {
    appendRows(rows, batch, converters)
    await pause()
  }
  return rows
}

// ---------------------------------------------------------------------------------------------
// Arrow data in

/** An apache-arrow type for the JavaScript value `value` (the first non-null one of a column). */
function inferType(values, name) {
  const value = values.find((v) => v !== null && v !== undefined)
  if (value === undefined) return new arrow.Utf8()
  if (typeof value === 'bigint') return new arrow.Int64()
  if (typeof value === 'number') return new arrow.Float64()
  if (typeof value === 'string') return new arrow.Utf8()
  if (typeof value === 'boolean') return new arrow.Bool()
  if (value instanceof Date) return new arrow.TimestampMicrosecond('UTC')
  if (value instanceof Uint8Array) return new arrow.Binary()
  if (Array.isArray(value)) {
    const items = values.filter((v) => Array.isArray(v)).flat()
    return new arrow.List(new arrow.Field('element', inferType(items, `${name}[]`), true))
  }
  if (typeof value === 'object') {
    const objects = values.filter((v) => v !== null && v !== undefined)
    return new arrow.Struct(inferFields(objects, name))
  }
  throw new TypeError(`cannot write the ${typeof value} value of ${name}`)
}

function inferFields(rows, prefix, hint) {
  const names = []
  const seen = new Set()
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key)
        names.push(key)
      }
    }
  }
  return names.map((key) => {
    const known = hint?.fields.find((f) => f.name === key)
    if (known) return known
    const path = prefix ? `${prefix}.${key}` : key
    return new arrow.Field(key, inferType(rows.map((r) => r[key]), path), true)
  })
}

/** `value` as the builder of `type` takes it (numbers for 64-bit integers become bigints). */
function coerce(value, type, path) {
  if (value === undefined || value === null) return null
  switch (type.typeId) {
    case T.Int:
      if (type.bitWidth === 64) {
        if (typeof value === 'number') {
          if (!Number.isInteger(value)) throw new TypeError(`${path}: ${value} is not an integer`)
          return BigInt(value)
        }
        return value
      }
      return typeof value === 'bigint' ? Number(value) : value
    case T.Timestamp:
    case T.Date:
      return typeof value === 'string' ? new Date(value) : value
    case T.Struct: {
      const out = {}
      for (const f of type.children) out[f.name] = coerce(value[f.name], f.type, `${path}.${f.name}`)
      return out
    }
    case T.List:
    case T.LargeList: {
      const inner = type.children[0].type
      return Array.from(value, (v) => coerce(v, inner, `${path}[]`))
    }
    default:
      return value
  }
}

/** An apache-arrow Table of plain row objects, with `schema` (an apache-arrow Schema) or an
 * inferred one (taking the types of the columns `hint`, a table's schema, has). */
function rowsToTable(rows, schema, hint) {
  if (rows.some((r) => r === null || typeof r !== 'object' || Array.isArray(r))) {
    throw new TypeError('each row must be a plain object')
  }
  const fields = schema ? schema.fields : inferFields(rows, '', hint)
  if (fields.length === 0) throw new TypeError('the rows have no columns')
  const columns = {}
  for (const field of fields) {
    const values = rows.map((r) => coerce(r[field.name], field.type, field.name))
    columns[field.name] = arrow.vectorFromArray(values, field.type)
  }
  if (!schema) return new arrow.Table(columns)
  // Keep the nullability and metadata of the given fields.
  const children = fields.map((f) => columns[f.name].data)
  if (children.some((chunks) => chunks.length !== 1)) return new arrow.Table(columns)
  const data = arrow.makeData({
    type: new arrow.Struct(fields),
    length: rows.length,
    nullCount: 0,
    children: children.map((chunks) => chunks[0]),
  })
  return new arrow.Table([new arrow.RecordBatch(schema, data)])
}

function isAsyncIterable(value) {
  return value !== null && typeof value === 'object' && typeof value[Symbol.asyncIterator] === 'function'
}

function isIterable(value) {
  return value !== null && typeof value === 'object' && typeof value[Symbol.iterator] === 'function'
}

/** Push `data` into the native writer, batch by batch. */
async function pushData(writer, data, schema, signal) {
  const pushBatch = (batch) => call(() => writer.push(arrow.tableToIPC(new arrow.Table([batch]), 'stream'), true), signal)
  const pushTable = async (table) => {
    if (table.batches.length === 0) {
      return call(() => writer.push(arrow.tableToIPC(table, 'stream'), true), signal)
    }
    for (const batch of table.batches) await pushBatch(batch)
  }
  const pushItem = async (item) => {
    signal?.throwIfAborted()
    if (item instanceof arrow.RecordBatch) return pushBatch(item)
    if (item instanceof arrow.Table) return pushTable(item)
    if (item instanceof Uint8Array) return call(() => writer.push(toBuffer(item), false), signal)
    throw new TypeError('an iterable of data must yield apache-arrow RecordBatches or Tables, or Arrow IPC bytes')
  }

  if (data instanceof arrow.Table) return pushTable(data)
  if (data instanceof arrow.RecordBatch) return pushBatch(data)
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    return call(() => writer.push(toBuffer(data), true), signal)
  }
  if (Array.isArray(data) && (data.length === 0 || !(data[0] instanceof arrow.RecordBatch || data[0] instanceof Uint8Array))) {
    if (data.length === 0 && !schema) throw new TypeError('an empty array of rows needs a schema')
    return pushTable(rowsToTable(data, schema))
  }
  if (data instanceof ArrowStream || isAsyncIterable(data)) {
    for await (const item of data) await pushItem(item)
    return
  }
  if (isIterable(data)) {
    for (const item of data) await pushItem(item)
    return
  }
  throw new TypeError(
    'data must be an apache-arrow Table, RecordBatch, Arrow IPC bytes, an array of row objects, or an (async) iterable of batches',
  )
}

function toBuffer(bytes) {
  if (bytes instanceof ArrayBuffer) return Buffer.from(bytes)
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Arrow IPC bytes of a merge source: an apache-arrow Table, RecordBatch, IPC bytes or rows. */
function sourceBytes(source, schema, hint) {
  if (source instanceof arrow.Table) return Buffer.from(arrow.tableToIPC(source, 'stream'))
  if (source instanceof arrow.RecordBatch) return Buffer.from(arrow.tableToIPC(new arrow.Table([source]), 'stream'))
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return toBuffer(source)
  if (Array.isArray(source)) {
    if (source.length === 0 && !schema) throw new TypeError('an empty array of rows needs a schema')
    return Buffer.from(arrow.tableToIPC(rowsToTable(source, schema, hint), 'stream'))
  }
  throw new TypeError('source must be an apache-arrow Table or RecordBatch, Arrow IPC bytes or an array of row objects')
}

// ---------------------------------------------------------------------------------------------
// Tables

function camelMetadata(m) {
  return {
    id: m.id,
    name: m.name ?? null,
    description: m.description ?? null,
    partitionColumns: m.partitionColumns ?? [],
    createdTime: m.createdTime ?? null,
    configuration: m.configuration ?? {},
  }
}

function scanOptions(options) {
  options = checkOptions(options)
  return {
    columns: checkStrings(options.columns, 'columns'),
    predicate: checkString(options.predicate, 'predicate', true),
    batchSize: checkInteger(options.batchSize, 'batchSize', { min: 1 }),
    concurrency: checkInteger(options.concurrency, 'concurrency', { min: 1 }),
  }
}

/** Rows per batch of reads that return the whole result (`toArrowTable`, `toRows`) unless asked
 * otherwise: apache-arrow's cost per batch is high beside Rust's, so these reads use batches
 * eight times the scan's default (a tenth of the decoding time on 10M rows). */
const WHOLE_READ_BATCH_ROWS = 65536

/** `scanOptions` for a read of the whole result. */
function wholeReadOptions(options) {
  const opts = scanOptions(options)
  opts.batchSize ??= WHOLE_READ_BATCH_ROWS
  return opts
}

/** A Delta table loaded at some version. Every call that reads storage returns a Promise and
 * runs off the event loop. */
class DeltaTable {
  #raw

  /** @internal */
  constructor(raw) {
    if (!(raw instanceof native.RawTable)) throw new TypeError('use DeltaTable.open(uri) to load a table')
    this.#raw = raw
  }

  /** @internal The native table (for writeDeltaLake). */
  static _raw(table) {
    return table.#raw
  }

  /** Load the table at `uri` (a local path or a URL): the latest version, or `version`, or the
   * version current at `timestamp`. */
  static async open(uri, options = {}) {
    checkString(uri, 'uri')
    options = checkOptions(options)
    const version = checkInteger(options.version, 'version')
    const timestamp = toMillis(options.timestamp, 'timestamp')
    if (version !== undefined && timestamp !== undefined) throw new TypeError('give a version or a timestamp, not both')
    const storage = checkStringMap(options.storageOptions, 'storageOptions')
    const raw = await call(() => native.RawTable.open(uri, version, timestamp, storage))
    return new DeltaTable(raw)
  }

  /** Whether a Delta table exists at `uri`. */
  static async exists(uri, options = {}) {
    checkString(uri, 'uri')
    options = checkOptions(options)
    return call(() => native.RawTable.exists(uri, checkStringMap(options.storageOptions, 'storageOptions')))
  }

  /** The loaded version. */
  version() {
    return callSync(() => this.#raw.version())
  }

  /** The table's location as a URL. */
  tableUri() {
    return callSync(() => this.#raw.tableUri())
  }

  /** The schema as a plain object: `{ type: 'struct', fields: [{ name, type, nullable, metadata }] }`
   * (Delta's JSON form; nested types are objects too). */
  schema() {
    return JSON.parse(callSync(() => this.#raw.schemaJson()))
  }

  /** The schema as an apache-arrow Schema. */
  arrowSchema() {
    return arrow.tableFromIPC(callSync(() => this.#raw.arrowSchemaIpc())).schema
  }

  /** The table's metadata: id, name, description, partitionColumns, createdTime, configuration. */
  metadata() {
    return camelMetadata(JSON.parse(callSync(() => this.#raw.metadataJson())))
  }

  /** The protocol: minReaderVersion, minWriterVersion, readerFeatures, writerFeatures. */
  protocol() {
    const p = JSON.parse(callSync(() => this.#raw.protocolJson()))
    return {
      minReaderVersion: p.minReaderVersion,
      minWriterVersion: p.minWriterVersion,
      readerFeatures: p.readerFeatures ?? null,
      writerFeatures: p.writerFeatures ?? null,
    }
  }

  /** The paths of the active files relative to the table root (with `predicate`, only the files
   * that may hold matching rows). */
  files(options = {}) {
    const predicate = checkString(checkOptions(options).predicate, 'predicate', true)
    return callSync(() => this.#raw.files(predicate))
  }

  /** The absolute locations of the active files. */
  fileUris(options = {}) {
    const predicate = checkString(checkOptions(options).predicate, 'predicate', true)
    return callSync(() => this.#raw.fileUris(predicate))
  }

  /** The partition values of each active file, by column name (`null` for null). */
  partitions(options = {}) {
    const predicate = checkString(checkOptions(options).predicate, 'predicate', true)
    return callSync(() => this.#raw.partitions(predicate))
  }

  /** The commit information of the newest `limit` versions, newest first. */
  async history(options = {}) {
    const limit = checkInteger(checkOptions(options).limit, 'limit', { min: 1 })
    return call(() => this.#raw.history(limit))
  }

  /** Load another version: a number, or a Date (the version current then). Resolves to the version. */
  async loadVersion(version) {
    if (version instanceof Date) return call(() => this.#raw.loadTimestamp(toMillis(version, 'version')))
    const v = checkInteger(version, 'version', { optional: false })
    return call(() => this.#raw.loadVersion(v))
  }

  /** Move to the latest version, reading only the new commits. Resolves to the version. */
  async updateIncremental() {
    return call(() => this.#raw.updateIncremental())
  }

  /** The latest version recorded for the application `appId` (undefined when none). */
  transactionVersion(appId) {
    checkString(appId, 'appId')
    return callSync(() => this.#raw.transactionVersion(appId)) ?? undefined
  }

  /** The rows (of `columns`, matching `predicate`) as a stream of Arrow IPC chunks, read as the
   * consumer asks for them. */
  scan(options = {}) {
    const opts = scanOptions(options)
    const decimals = options?.decimalsAsStrings === true
    const raw = callSync(() => this.#raw.scan({ ...opts, decimalsAsStrings: decimals }))
    return new ArrowStream(raw, {}, options?.signal)
  }

  /** The rows as an apache-arrow Table, in batches of `batchSize` rows (default 65,536). */
  async toArrowTable(options = {}) {
    const opts = wholeReadOptions(options)
    const bytes = await withSignal(options?.signal, (token) => this.#raw.toIpc(opts, token))
    return readIpc(bytes)
  }

  /** The rows as plain objects: numbers, bigints for 64-bit integers (numbers with
   * `int64AsNumber`), strings, booleans, Dates, Buffers, null, nested objects and arrays, and
   * decimals as strings. */
  async toRows(options = {}) {
    const opts = wholeReadOptions(options)
    const int64AsNumber = checkBoolean(options?.int64AsNumber, 'int64AsNumber') ?? false
    const bytes = await withSignal(options?.signal, (token) =>
      this.#raw.toIpc({ ...opts, decimalsAsStrings: true }, token),
    )
    return rowsOf(await readIpc(bytes), { int64AsNumber })
  }

  /** The change data feed between two versions or two times, as an ArrowStream. */
  async loadCdf(options = {}) {
    options = checkOptions(options)
    const opts = {
      startingVersion: checkInteger(options.startingVersion, 'startingVersion'),
      endingVersion: checkInteger(options.endingVersion, 'endingVersion'),
      startingTimestamp: toMillis(options.startingTimestamp, 'startingTimestamp'),
      endingTimestamp: toMillis(options.endingTimestamp, 'endingTimestamp'),
      columns: checkStrings(options.columns, 'columns'),
      predicate: checkString(options.predicate, 'predicate', true),
      allowOutOfRange: checkBoolean(options.allowOutOfRange, 'allowOutOfRange'),
    }
    const raw = await call(() => this.#raw.loadCdf(opts, true))
    return new ArrowStream(raw, {}, options.signal)
  }

  /** Delete the rows matching the SQL `predicate` (every row without one); resolves to the metrics. */
  async delete(predicate, options = {}) {
    checkString(predicate, 'predicate', true)
    options = checkOptions(options)
    return withSignal(options.signal, (token) =>
      this.#raw.delete(predicate ?? undefined, writerSettings(options), commitSettings(options), token),
    )
  }

  /** Set each column of `updates` to its SQL expression, in the rows matching `predicate`. */
  async update(updates, options = {}) {
    const assignments = checkStringMap(updates, 'updates')
    if (!assignments || Object.keys(assignments).length === 0) throw new TypeError('updates must name at least one column')
    options = checkOptions(options)
    const predicate = checkString(options.predicate, 'predicate', true)
    return withSignal(options.signal, (token) =>
      this.#raw.update(assignments, predicate, writerSettings(options), commitSettings(options), token),
    )
  }

  /** Start a merge of `source` into the table, joined on the SQL `predicate`; add clauses and
   * `execute()` it. */
  merge(source, predicate, options = {}) {
    checkString(predicate, 'predicate')
    options = checkOptions(options)
    const hint = Array.isArray(source) ? this.arrowSchema() : undefined
    return new TableMerger(this.#raw, sourceBytes(source, options.sourceSchema, hint), predicate, options)
  }

  /** Compaction and Z-ordering. */
  get optimize() {
    const raw = this.#raw
    const run = (columns, options) => {
      options = checkOptions(options)
      const args = [
        columns,
        checkString(options.partitionFilter ?? options.predicate, 'partitionFilter', true),
        checkInteger(options.targetSize, 'targetSize', { min: 1 }),
        checkInteger(options.maxConcurrentTasks, 'maxConcurrentTasks', { min: 1 }),
        writerSettings(options),
        commitSettings(options),
      ]
      return withSignal(options.signal, (token) => raw.optimize(...args, token))
    }
    return {
      /** Rewrite small files into fewer, larger ones; resolves to the metrics. */
      compact: async (options = {}) => run(undefined, options),
      /** Rewrite the files sorted by the Z-order of `columns`; resolves to the metrics. */
      zOrder: async (columns, options = {}) => {
        if (!checkStrings(columns, 'columns')?.length) throw new TypeError('columns must name at least one column')
        return run(columns, options)
      },
    }
  }

  /** Delete the files no version within the retention needs (only list them with `dryRun`,
   * the default). Resolves to the metrics (`filesDeleted`, ...). */
  async vacuum(options = {}) {
    options = checkOptions(options)
    const args = [
      checkInteger(options.retentionHours, 'retentionHours'),
      checkBoolean(options.dryRun, 'dryRun'),
      checkBoolean(options.enforceRetentionDuration, 'enforceRetentionDuration'),
      checkBoolean(options.full, 'full'),
      commitSettings(options),
    ]
    return withSignal(options.signal, (token) => this.#raw.vacuum(...args, token))
  }

  /** Restore the table to a version (a number) or to the version current at a Date, as a new commit. */
  async restore(target, options = {}) {
    options = checkOptions(options)
    let version
    let timestamp
    if (target instanceof Date || typeof target === 'string') timestamp = toMillis(target, 'target')
    else version = checkInteger(target, 'target', { optional: false })
    const args = [
      version,
      timestamp,
      checkBoolean(options.ignoreMissingFiles, 'ignoreMissingFiles'),
      checkBoolean(options.protocolDowngradeAllowed, 'protocolDowngradeAllowed'),
      commitSettings(options),
    ]
    return call(() => this.#raw.restore(...args))
  }

  /** Changes of the schema, properties and protocol; each resolves to the new version. */
  get alter() {
    const raw = this.#raw
    const run = (change, options = {}) => call(() => raw.alter(change, commitSettings(checkOptions(options))))
    return {
      /** Add CHECK constraints: `{ name: 'sql expression' }`. */
      addConstraint: async (constraints, options) => {
        const entries = Object.entries(checkStringMap(constraints, 'constraints') ?? {})
        if (entries.length !== 1) throw new TypeError('give exactly one constraint: { name: expression }')
        const [[name, expression]] = entries
        return run({ kind: 'addConstraint', name, expression }, options)
      },
      /** Drop a CHECK constraint (a missing one is an error unless `ifExists`). */
      dropConstraint: async (name, options = {}) =>
        run({ kind: 'dropConstraint', name: checkString(name, 'name'), ifExists: checkBoolean(options.ifExists, 'ifExists') ?? false }, options),
      /** Append nullable columns: Delta struct fields (`{ name, type, nullable, metadata }`). */
      addColumns: async (fields, options) => {
        if (!Array.isArray(fields)) throw new TypeError('fields must be an array of { name, type, nullable } objects')
        const normalised = fields.map((f) => ({ nullable: true, metadata: {}, ...f }))
        return run({ kind: 'addColumns', schemaJson: JSON.stringify({ type: 'struct', fields: normalised }) }, options)
      },
      /** Set table properties. */
      setTableProperties: async (properties, options) =>
        run({ kind: 'setProperties', properties: checkStringMap(properties, 'properties') ?? {} }, options),
      /** Add table features by name (`deletionVectors`, `columnMapping`, ...). */
      addFeature: async (features, options) =>
        run({ kind: 'addFeatures', features: checkStrings(typeof features === 'string' ? [features] : features, 'features') ?? [] }, options),
      /** Set the table's name. */
      setTableName: async (name, options) => run({ kind: 'setName', name: checkString(name, 'name') }, options),
      /** Set the table's description. */
      setTableDescription: async (description, options) =>
        run({ kind: 'setDescription', name: checkString(description, 'description') }, options),
    }
  }

  /** Write a checkpoint of the loaded version. */
  async createCheckpoint() {
    return call(() => this.#raw.createCheckpoint())
  }

  /** Delete expired log files no retained version needs; resolves to how many were deleted. */
  async cleanupMetadata() {
    return call(() => this.#raw.cleanupMetadata())
  }

  /** Release the loaded snapshot; later calls reject. */
  close() {
    this.#raw.close()
  }
}

/** A merge being described: add clauses (tried in order), then `execute()`. */
class TableMerger {
  #raw
  #source
  #predicate
  #options
  #clauses = []

  /** @internal */
  constructor(raw, source, predicate, options) {
    this.#raw = raw
    this.#source = source
    this.#predicate = predicate
    this.#options = options
  }

  #add(kind, { updates, predicate, except } = {}) {
    this.#clauses.push({
      kind,
      predicate: checkString(predicate, 'predicate', true),
      updates: checkStringMap(updates, 'updates'),
      except: checkStrings(except, 'except'),
    })
    return this
  }

  /** Update matched target rows: `updates` maps target columns to SQL expressions. */
  whenMatchedUpdate(updates, predicate) {
    return this.#add('whenMatchedUpdate', { updates, predicate })
  }
  /** Update every column of matched target rows from the source (except `except`). */
  whenMatchedUpdateAll(predicate, except) {
    return this.#add('whenMatchedUpdateAll', { predicate, except })
  }
  /** Delete matched target rows. */
  whenMatchedDelete(predicate) {
    return this.#add('whenMatchedDelete', { predicate })
  }
  /** Insert source rows no target row matches, with the columns of `updates`. */
  whenNotMatchedInsert(updates, predicate) {
    return this.#add('whenNotMatchedInsert', { updates, predicate })
  }
  /** Insert source rows no target row matches, every column (except `except`). */
  whenNotMatchedInsertAll(predicate, except) {
    return this.#add('whenNotMatchedInsertAll', { predicate, except })
  }
  /** Update target rows no source row matches. */
  whenNotMatchedBySourceUpdate(updates, predicate) {
    return this.#add('whenNotMatchedBySourceUpdate', { updates, predicate })
  }
  /** Delete target rows no source row matches. */
  whenNotMatchedBySourceDelete(predicate) {
    return this.#add('whenNotMatchedBySourceDelete', { predicate })
  }

  /** Run the merge; resolves to the metrics. */
  async execute(options = {}) {
    const o = { ...this.#options, ...checkOptions(options) }
    const args = [
      this.#source,
      this.#predicate,
      this.#clauses,
      checkString(o.sourceAlias, 'sourceAlias', true),
      checkString(o.targetAlias, 'targetAlias', true),
      checkBoolean(o.mergeSchema, 'mergeSchema'),
      writerSettings(o),
      commitSettings(o),
    ]
    return withSignal(o.signal, (token) => this.#raw.merge(...args, token))
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

const MODES = ['error', 'append', 'overwrite', 'ignore']

/** Write `data` into a DeltaTable (which moves to the new version) or the table at a URI,
 * creating it when absent. `data`: an apache-arrow Table or RecordBatch, Arrow IPC bytes, an
 * array of row objects (schema from `schema`, the table, or inferred), or an (async) iterable of
 * RecordBatches, Tables or IPC chunks, streamed batch by batch (bytes given are read in place:
 * leave them unchanged until the write resolves). Resolves to the new version. */
async function writeDeltaLake(tableOrUri, data, options = {}) {
  options = checkOptions(options)
  const mode = checkString(options.mode, 'mode', true) ?? 'error'
  if (!MODES.includes(mode)) throw new RangeError(`mode must be one of ${MODES.join(', ')}, not '${mode}'`)
  let table
  let uri
  if (tableOrUri instanceof DeltaTable) table = tableOrUri
  else uri = checkString(tableOrUri, 'tableOrUri')
  if (data === undefined || data === null) throw new TypeError('data is required')
  let schema = options.schema
  if (schema !== undefined && !(schema instanceof arrow.Schema)) throw new TypeError('schema must be an apache-arrow Schema')
  if (!schema && table && Array.isArray(data)) schema = table.arrowSchema()
  const nativeOptions = {
    mode,
    schemaMode: checkString(options.schemaMode, 'schemaMode', true),
    partitionBy: checkStrings(typeof options.partitionBy === 'string' ? [options.partitionBy] : options.partitionBy, 'partitionBy'),
    name: checkString(options.name, 'name', true),
    description: checkString(options.description, 'description', true),
    configuration: checkStringMap(options.configuration, 'configuration'),
    predicate: checkString(options.predicate, 'predicate', true),
    storageOptions: checkStringMap(options.storageOptions, 'storageOptions'),
    writer: writerSettings(options),
    commit: commitSettings(options),
  }
  const signal = options.signal
  checkSignal(signal)
  const writer = callSync(() => new native.RawWriter(table ? DeltaTable._raw(table) : undefined, uri, nativeOptions))
  const onAbort = () => writer.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    try {
      await pushData(writer, data, schema, signal)
    } catch (err) {
      writer.abort()
      // The writer's own error (if it failed first) says more than a rejected push.
      await writer.finish().catch(() => {})
      throw err
    }
    signal?.throwIfAborted()
    return await call(() => writer.finish(), signal)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * Show the core's progress on standard error: each operation with its figures when it finishes,
 * commits retried after a conflict, vacuum and optimize. The `RUST_LOG` environment variable
 * filters it (for example `deltalake=debug`); `deltalake=info` when unset. Returns false, changing
 * nothing, when logging was already set up.
 */
function initLogging() {
  return native.initLogging()
}

module.exports = {
  initLogging,
  DeltaTable,
  TableMerger,
  ArrowStream,
  writeDeltaLake,
  tableToRows,
  DeltaError,
  TableNotFoundError,
  DeltaProtocolError,
  CommitFailedError,
  SchemaMismatchError,
  DeltaInvalidArgumentError,
  NotSupportedError,
}
