// The ES module entry point: the same objects as the CommonJS one (index.js).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const deltalake = require('./index.js')

export const {
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
} = deltalake
export default deltalake
