// Types of the `deltalake` package. The native addon's own declarations (native.d.ts) are made by
// napi-rs at build time; this file declares the JavaScript API that index.js builds on them.

import type { RecordBatch, Schema, Table } from 'apache-arrow'

/** The core's error kinds, the `code` of every DeltaError. */
export type DeltaErrorCode =
  | 'not_found'
  | 'file_not_found'
  | 'already_exists'
  | 'protocol'
  | 'commit_conflict'
  | 'schema_mismatch'
  | 'constraint_violation'
  | 'invalid_argument'
  | 'not_supported'
  | 'storage'
  | 'io'
  | 'cancelled'
  | 'internal'

/** The base class of every error of a Delta table operation. */
export declare class DeltaError extends Error {
  constructor(message: string, code?: DeltaErrorCode, options?: ErrorOptions)
  readonly code: DeltaErrorCode
}
/** No table (or no such version of it) at the location. */
export declare class TableNotFoundError extends DeltaError {}
/** The log is invalid, or the table needs a feature this implementation does not support. */
export declare class DeltaProtocolError extends DeltaError {}
/** A commit failed: a concurrent commit conflicted, retries ran out, or the transaction was already committed. */
export declare class CommitFailedError extends DeltaError {}
/** Data or a schema does not fit the table's schema. */
export declare class SchemaMismatchError extends DeltaError {}
/** A bad predicate, option, mode or version range. */
export declare class DeltaInvalidArgumentError extends DeltaError {}
/** Valid, but not implemented. */
export declare class NotSupportedError extends DeltaError {}

/** Options of calls that read a table at a location. */
export interface StorageOptions {
  /** Credentials and settings of the object store (`AWS_REGION`, `AZURE_STORAGE_ACCOUNT_NAME`, ...). */
  storageOptions?: Record<string, string>
}

export interface OpenOptions extends StorageOptions {
  /** Load this version. */
  version?: number
  /** Load the version current at this time. */
  timestamp?: Date | number | string
}

/** A Delta schema type: a primitive name (`long`, `string`, `timestamp`, `decimal(10,2)`, ...) or a nested type. */
export type DeltaType =
  | string
  | { type: 'struct'; fields: DeltaField[] }
  | { type: 'array'; elementType: DeltaType; containsNull: boolean }
  | { type: 'map'; keyType: DeltaType; valueType: DeltaType; valueContainsNull: boolean }

export interface DeltaField {
  name: string
  type: DeltaType
  nullable: boolean
  metadata: Record<string, unknown>
}

export interface DeltaSchema {
  type: 'struct'
  fields: DeltaField[]
}

export interface Metadata {
  id: string
  name: string | null
  description: string | null
  partitionColumns: string[]
  createdTime: number | null
  configuration: Record<string, string>
}

export interface Protocol {
  minReaderVersion: number
  minWriterVersion: number
  readerFeatures: string[] | null
  writerFeatures: string[] | null
}

/** One commit of the history (the commitInfo action's fields), newest first. */
export interface CommitInfo {
  version: number
  timestamp?: number
  operation?: string
  operationParameters?: Record<string, unknown>
  [key: string]: unknown
}

export interface Abortable {
  /** Stop the call: it rejects with the signal's reason, and nothing is committed. */
  signal?: AbortSignal
}

export interface ScanOptions extends Abortable {
  /** Only these columns, in this order. */
  columns?: string[]
  /** Only the rows matching this SQL predicate (`year = 2021 AND value > 10`). */
  predicate?: string
  /** Rows per batch at most (default 8192; 65,536 for `toArrowTable` and `toRows`). */
  batchSize?: number
  /** Row groups decoded at once at most (default twice the CPUs). */
  concurrency?: number
}

export interface RowOptions extends ScanOptions {
  /** 64-bit integers as numbers instead of bigints (loses precision past 2^53). */
  int64AsNumber?: boolean
}

/** A plain JavaScript value of a row: decimals are strings, timestamps and dates Dates, binary Buffers. */
export type RowValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Buffer
  | RowValue[]
  | Map<RowValue, RowValue>
  | { [key: string]: RowValue }

export type Row = Record<string, RowValue>

/** A stream of Arrow record batches as Arrow IPC stream chunks; readable once. */
export declare class ArrowStream implements AsyncIterable<Buffer> {
  [Symbol.asyncIterator](): AsyncIterator<Buffer>
  /** The apache-arrow RecordBatches, one at a time. */
  batches(): AsyncGenerator<RecordBatch>
  /** The whole stream as an apache-arrow Table. */
  toArrowTable(): Promise<Table>
  /** The whole stream as plain objects. */
  toRows(options?: { int64AsNumber?: boolean }): Promise<Row[]>
}

export interface CdfOptions extends Abortable {
  startingVersion?: number
  endingVersion?: number
  startingTimestamp?: Date | number | string
  endingTimestamp?: Date | number | string
  columns?: string[]
  predicate?: string
  allowOutOfRange?: boolean
}

export interface CommitProperties {
  /** Retries after a conflicting concurrent commit (default 14). */
  maxCommitRetries?: number
  /** Fields added to commitInfo; `userMetadata` becomes commitInfo.userMetadata. */
  customMetadata?: Record<string, unknown>
  /** Application transactions the commit records (writes). */
  appTransactions?: { appId: string; version: number }[]
}

export interface WriterProperties {
  compression?: 'uncompressed' | 'snappy' | 'gzip' | 'brotli' | 'lz4' | 'lz4_raw' | 'zstd' | (string & {})
  compressionLevel?: number
  maxRowGroupSize?: number
}

export interface OperationOptions extends Abortable {
  commitProperties?: CommitProperties
  writerProperties?: WriterProperties
}

/** Metrics of delete, update, merge, optimize, vacuum and restore, camelCased. */
export type Metrics = Record<string, any>

export interface DeleteMetrics extends Metrics {
  numAddedFiles: number
  numRemovedFiles: number
  numDeletedRows: number
  numCopiedRows: number
  executionTimeMs: number
}

export interface UpdateMetrics extends Metrics {
  numAddedFiles: number
  numRemovedFiles: number
  numUpdatedRows: number
  numCopiedRows: number
  executionTimeMs: number
}

export interface MergeMetrics extends Metrics {
  numSourceRows: number
  numTargetRowsInserted: number
  numTargetRowsUpdated: number
  numTargetRowsDeleted: number
  numTargetRowsCopied: number
  numOutputRows: number
  numTargetFilesAdded: number
  numTargetFilesRemoved: number
  executionTimeMs: number
}

export interface OptimizeMetrics extends Metrics {
  numFilesAdded: number
  numFilesRemoved: number
  filesAdded: { avg: number; max: number; min: number; totalFiles: number; totalSize: number }
  filesRemoved: { avg: number; max: number; min: number; totalFiles: number; totalSize: number }
  partitionsOptimized: number
  numBatches: number
  totalConsideredFiles: number
  totalFilesSkipped: number
}

export interface VacuumMetrics extends Metrics {
  dryRun: boolean
  filesDeleted: string[]
}

export interface RestoreMetrics extends Metrics {
  numRemovedFile: number
  numRestoredFile: number
}

export interface OptimizeOptions extends OperationOptions {
  /** Only the partitions matching this SQL predicate. */
  partitionFilter?: string
  /** Target file size in bytes. */
  targetSize?: number
  maxConcurrentTasks?: number
}

export interface VacuumOptions extends Abortable {
  /** Keep files removed within this many hours (default the table's retention, 7 days). */
  retentionHours?: number
  /** Only list the files (default true). */
  dryRun?: boolean
  /** Refuse a retention shorter than the table's (default true). */
  enforceRetentionDuration?: boolean
  /** List the whole directory, also finding files never committed. */
  full?: boolean
  commitProperties?: CommitProperties
}

export interface RestoreOptions {
  ignoreMissingFiles?: boolean
  protocolDowngradeAllowed?: boolean
  commitProperties?: CommitProperties
}

export interface MergeOptions extends OperationOptions {
  /** The name of the source in predicates (default `source`). */
  sourceAlias?: string
  /** The name of the target in predicates (default `target`). */
  targetAlias?: string
  /** Add new source columns to the table. */
  mergeSchema?: boolean
  /** The schema of a source given as rows (default: the table's types for its columns). */
  sourceSchema?: Schema
}

/** A merge being described: add clauses (tried in order), then `execute()`. */
export declare class TableMerger {
  whenMatchedUpdate(updates: Record<string, string>, predicate?: string): this
  whenMatchedUpdateAll(predicate?: string, except?: string[]): this
  whenMatchedDelete(predicate?: string): this
  whenNotMatchedInsert(updates: Record<string, string>, predicate?: string): this
  whenNotMatchedInsertAll(predicate?: string, except?: string[]): this
  whenNotMatchedBySourceUpdate(updates: Record<string, string>, predicate?: string): this
  whenNotMatchedBySourceDelete(predicate?: string): this
  execute(options?: MergeOptions): Promise<MergeMetrics>
}

/** Data a write or merge takes. */
export type WriteData =
  | Table
  | RecordBatch
  | Uint8Array
  | ArrayBuffer
  | Row[]
  | ArrowStream
  | Iterable<RecordBatch | Table | Uint8Array>
  | AsyncIterable<RecordBatch | Table | Uint8Array>

/** A Delta table loaded at some version. */
export declare class DeltaTable {
  private constructor()
  /** Load the table at `uri` (a local path or a URL). */
  static open(uri: string, options?: OpenOptions): Promise<DeltaTable>
  /** Whether a Delta table exists at `uri`. */
  static exists(uri: string, options?: StorageOptions): Promise<boolean>

  version(): number
  tableUri(): string
  schema(): DeltaSchema
  arrowSchema(): Schema
  metadata(): Metadata
  protocol(): Protocol
  files(options?: { predicate?: string }): string[]
  fileUris(options?: { predicate?: string }): string[]
  partitions(options?: { predicate?: string }): Record<string, string | null>[]
  history(options?: { limit?: number }): Promise<CommitInfo[]>
  /** Load a version, or the version current at a time; resolves to the version loaded. */
  loadVersion(version: number | Date): Promise<number>
  updateIncremental(): Promise<number>
  transactionVersion(appId: string): number | undefined

  scan(options?: ScanOptions & { decimalsAsStrings?: boolean }): ArrowStream
  toArrowTable(options?: ScanOptions): Promise<Table>
  toRows(options?: RowOptions): Promise<Row[]>
  loadCdf(options?: CdfOptions): Promise<ArrowStream>

  delete(predicate?: string, options?: OperationOptions): Promise<DeleteMetrics>
  update(updates: Record<string, string>, options?: OperationOptions & { predicate?: string }): Promise<UpdateMetrics>
  merge(source: Table | RecordBatch | Uint8Array | Row[], predicate: string, options?: MergeOptions): TableMerger
  readonly optimize: {
    compact(options?: OptimizeOptions): Promise<OptimizeMetrics>
    zOrder(columns: string[], options?: OptimizeOptions): Promise<OptimizeMetrics>
  }
  vacuum(options?: VacuumOptions): Promise<VacuumMetrics>
  restore(target: number | Date | string, options?: RestoreOptions): Promise<RestoreMetrics>
  readonly alter: {
    addConstraint(constraint: Record<string, string>, options?: { commitProperties?: CommitProperties }): Promise<number>
    dropConstraint(name: string, options?: { ifExists?: boolean; commitProperties?: CommitProperties }): Promise<number>
    addColumns(fields: Array<Partial<DeltaField> & { name: string; type: DeltaType }>, options?: { commitProperties?: CommitProperties }): Promise<number>
    setTableProperties(properties: Record<string, string>, options?: { commitProperties?: CommitProperties }): Promise<number>
    addFeature(features: string | string[], options?: { commitProperties?: CommitProperties }): Promise<number>
    setTableName(name: string, options?: { commitProperties?: CommitProperties }): Promise<number>
    setTableDescription(description: string, options?: { commitProperties?: CommitProperties }): Promise<number>
  }
  createCheckpoint(): Promise<void>
  cleanupMetadata(): Promise<number>
  /** Release the loaded snapshot; later calls reject. */
  close(): void
}

export interface WriteOptions extends StorageOptions, Abortable {
  /** What to do when the table exists: `error` (default), `append`, `overwrite` or `ignore`. */
  mode?: 'error' | 'append' | 'overwrite' | 'ignore'
  /** Let the data change the table's schema: `merge` adds columns, `overwrite` replaces it. */
  schemaMode?: 'merge' | 'overwrite'
  partitionBy?: string | string[]
  name?: string
  description?: string
  configuration?: Record<string, string>
  /** With `overwrite`, replace only the rows matching this SQL predicate. */
  predicate?: string
  /** The schema of rows given as objects. */
  schema?: Schema
  /** Roll to a new file at about this many bytes. */
  targetFileSize?: number
  writerProperties?: WriterProperties
  commitProperties?: CommitProperties
}

/** Write `data` into a table (a DeltaTable moves to the new version) or the table at a URI,
 * creating it when absent. Resolves to the new version. */
export declare function writeDeltaLake(tableOrUri: DeltaTable | string, data: WriteData, options?: WriteOptions): Promise<number>

/** Show the core's progress (operations finished, commits retried, vacuum, optimize) on standard
 * error, filtered by `RUST_LOG` (`deltalake=info` when unset). False when logging was already set up. */
export declare function initLogging(): boolean

/** The rows of an apache-arrow Table as plain objects. */
export declare function tableToRows(table: Table, options?: { int64AsNumber?: boolean }): Row[]
