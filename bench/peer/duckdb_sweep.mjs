// duckdb_sweep.mjs - the peer for bench/run_sweep.sh: DuckDB aggregating the
// same settlements per institution, reading every column.
//
//   node duckdb_sweep.mjs CSV_DIR THREADS [DBFILE]
//
// Loads settlements.csv (not timed as the sweep: that is import's peer),
// then times a per-institution GROUP BY that touches every column, like the
// engine's volume pass with --all-columns.  One JSON object per line.
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';

const [csvDir, threadsArg, dbFileArg] = process.argv.slice(2);
if (!csvDir || !threadsArg) {
  console.error('usage: node duckdb_sweep.mjs CSV_DIR THREADS [DBFILE]');
  process.exit(2);
}
const dbFile = dbFileArg ?? `/tmp/medsweep-duckdb-sweep-${process.pid}.duckdb`;
rmSync(dbFile, { force: true });
rmSync(dbFile + '.wal', { force: true });
const instance = await DuckDBInstance.create(dbFile, { threads: String(threadsArg) });
const con = await instance.connect();
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
await con.runAndReadAll(query); // warm-up
const times = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await con.runAndReadAll(query);
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ name: `duckdb group by institution, all columns, ${threadsArg} threads`,
                             records: rows, seconds: times[1], records_per_s: rows / times[1] }));
rmSync(dbFile, { force: true });
rmSync(dbFile + '.wal', { force: true });
