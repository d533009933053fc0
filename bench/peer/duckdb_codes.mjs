// duckdb_codes.mjs - the peer for bench/run_drugs.sh: DuckDB finding the
// traceability codes settled more than once in the same drug lines.
//
//   node duckdb_codes.mjs CSV_DIR THREADS [DBFILE]
//
// Loads drug_items.csv (not timed), then times the query that counts every
// later sale of a code: the counterpart of the drugs model's repeated codes.
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';

const [csvDir, threadsArg, dbFileArg] = process.argv.slice(2);
if (!csvDir || !threadsArg) {
  console.error('usage: node duckdb_codes.mjs CSV_DIR THREADS [DBFILE]');
  process.exit(2);
}
const dbFile = dbFileArg ?? `/tmp/medsweep-duckdb-codes-${process.pid}.duckdb`;
rmSync(dbFile, { force: true });
rmSync(dbFile + '.wal', { force: true });
const instance = await DuckDBInstance.create(dbFile, { threads: String(threadsArg) });
const con = await instance.connect();
await con.run(`CREATE TABLE items AS SELECT * FROM read_csv('${csvDir}/drug_items.csv', header = true,
  types = {'trace_code': 'VARCHAR', 'amount': 'DECIMAL(18,2)'})`);
const rows = Number((await con.runAndReadAll('SELECT count(*) FROM items')).getRows()[0][0]);
const query = 'SELECT sum(n - 1) FROM (SELECT count(*) AS n FROM items GROUP BY trace_code HAVING count(*) > 1)';
await con.runAndReadAll(query); // warm-up
const times = [];
let repeats = 0;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  repeats = Number((await con.runAndReadAll(query)).getRows()[0][0] ?? 0);
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ name: `duckdb repeated codes, ${threadsArg} threads`, records: rows, repeats,
                             seconds: times[1], codes_per_s: rows / times[1],
                             codes_per_s_per_core: rows / times[1] / Number(threadsArg) }));
rmSync(dbFile, { force: true });
rmSync(dbFile + '.wal', { force: true });
