// duckdb_sweep.mjs - the peer for bench/run_sweep.sh: DuckDB aggregating the
// same settlements per institution, reading every column.
//
//   node duckdb_sweep.mjs CSV_DIR THREADS [DBFILE]
//
// Loads settlements.csv (not timed as the sweep: that is import's peer),
// then times a per-institution GROUP BY that touches every column, like the
// engine's volume pass with --all-columns.  One JSON object per line.
import { openPeer, removeDb, timeQuery } from './peer.mjs';

const { csvDir, threadsArg, dbFile, con } = await openPeer('duckdb_sweep.mjs', 'medsweep-duckdb-sweep');
const money = ['total', 'fund_pay', 'self_pay', 'drug', 'exam', 'lab', 'consumable', 'treatment',
               'surgery', 'bed', 'nursing', 'other'];
const types = Object.fromEntries(money.map(c => [c, 'DECIMAL(18,2)']));
await con.run(`CREATE TABLE settlements AS SELECT * FROM read_csv('${csvDir}/settlements.csv',
  header = true, types = ${JSON.stringify(types).replace(/"/g, "'")})`);
const rows = Number((await con.runAndReadAll('SELECT count(*) FROM settlements')).getRows()[0][0]);
const cols = (await con.runAndReadAll(
  "SELECT column_name FROM information_schema.columns WHERE table_name = 'settlements'"))
  .getRows().map(r => r[0]).filter(c => c !== 'inst_code');
const query = `SELECT inst_code, count(*), sum(fund_pay), sum(total),
  count(*) FILTER (WHERE visit_type = 'inpatient'), count(DISTINCT person_id), ` +
  cols.map(c => `min("${c}")`).join(', ') + ' FROM settlements GROUP BY inst_code';
const { seconds } = await timeQuery(con, query);
console.log(JSON.stringify({ name: `duckdb group by institution, all columns, ${threadsArg} threads`,
                             records: rows, seconds, records_per_s: rows / seconds }));
removeDb(dbFile);
