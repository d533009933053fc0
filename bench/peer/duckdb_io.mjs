// duckdb_io.mjs - the peer for bench/run_io.sh: DuckDB on the same CSV.
//
//   node duckdb_io.mjs CSV_DIR THREADS [DBFILE]
//
// 1. load: settlements.csv into a DuckDB table (its own columnar format),
//    the counterpart of `medsweep import`;
// 2. scan: a query that reads every column of every row (min of each plus a
//    sum), the counterpart of bench_read.
// Prints one JSON object per line: {"name", "records", "seconds", "records_per_s"}.
import { statSync } from 'node:fs';
import { openPeer, removeDb, timeQuery } from './peer.mjs';

const { csvDir, threadsArg, dbFile, con } = await openPeer('duckdb_io.mjs', 'medsweep-duckdb');
const csv = `${csvDir}/settlements.csv`;
const csvBytes = statSync(csv).size;

function report(name, records, seconds, bytes) {
  console.log(JSON.stringify({ name, records, seconds, records_per_s: records / seconds,
                               bytes_per_s: bytes / seconds }));
}

const t0 = performance.now();
// Money is DECIMAL(18,2): exact, like medsweep's fen.
await con.run(`CREATE TABLE settlements AS SELECT * FROM read_csv('${csv}', header = true,
  types = {'total': 'DECIMAL(18,2)', 'fund_pay': 'DECIMAL(18,2)', 'self_pay': 'DECIMAL(18,2)',
           'drug': 'DECIMAL(18,2)', 'exam': 'DECIMAL(18,2)', 'lab': 'DECIMAL(18,2)',
           'consumable': 'DECIMAL(18,2)', 'treatment': 'DECIMAL(18,2)', 'surgery': 'DECIMAL(18,2)',
           'bed': 'DECIMAL(18,2)', 'nursing': 'DECIMAL(18,2)', 'other': 'DECIMAL(18,2)'})`);
await con.run('CHECKPOINT');
const secs = (performance.now() - t0) / 1000;
const rows = Number((await con.runAndReadAll('SELECT count(*) FROM settlements')).getRows()[0][0]);
report(`duckdb load csv, ${threadsArg} threads`, rows, secs, csvBytes);

const cols = (await con.runAndReadAll(
  "SELECT column_name FROM information_schema.columns WHERE table_name = 'settlements'"))
  .getRows().map(r => r[0]);
const query = 'SELECT sum(total), ' + cols.map(c => `min("${c}")`).join(', ') + ' FROM settlements';
const { seconds } = await timeQuery(con, query);
report(`duckdb scan all columns, ${threadsArg} threads`, rows, seconds, 0);
con.closeSync?.();
removeDb(dbFile);
