// A typed use of the package, checked by `tsc --noEmit` (npm run typecheck); never run.
import { tableFromArrays, type Table } from 'apache-arrow'
import {
  DeltaError,
  DeltaTable,
  TableNotFoundError,
  writeDeltaLake,
  type MergeMetrics,
  type Row,
} from 'deltalake'

export async function example(uri: string): Promise<void> {
  const data: Table = tableFromArrays({ id: BigInt64Array.from([1n, 2n]), name: ['a', 'b'] })
  const version: number = await writeDeltaLake(uri, data, { mode: 'overwrite', partitionBy: ['name'] })
  await writeDeltaLake(uri, [{ id: 3n, name: 'c' }], { mode: 'append' })

  const table = await DeltaTable.open(uri, { version })
  const latest: number = await table.updateIncremental()
  const fields: string[] = table.schema().fields.map((f) => f.name)
  const arrowTable: Table = await table.toArrowTable({ columns: ['id'], predicate: 'id > 1' })
  const rows: Row[] = await table.toRows({ int64AsNumber: true })
  for await (const chunk of table.scan({ batchSize: 1024 })) {
    const bytes: Buffer = chunk
    void bytes
  }
  const controller = new AbortController()
  const metrics: MergeMetrics = await table
    .merge([{ id: 1n, name: 'z' }], 'target.id = source.id', { sourceAlias: 'source', targetAlias: 'target' })
    .whenMatchedUpdate({ name: 'source.name' })
    .whenNotMatchedInsertAll()
    .execute({ signal: controller.signal })
  const deleted: number = (await table.delete('id = 2')).numDeletedRows
  await table.optimize.zOrder(['id'])
  const vacuumed: string[] = (await table.vacuum({ dryRun: true })).filesDeleted
  await table.alter.addConstraint({ positive: 'id > 0' })
  try {
    await DeltaTable.open('/nowhere')
  } catch (err) {
    if (err instanceof TableNotFoundError) {
      const code: string = err.code
      void code
    } else if (err instanceof DeltaError) {
      throw err
    }
  }
  void [latest, fields, arrowTable, rows, metrics, deleted, vacuumed]
}
