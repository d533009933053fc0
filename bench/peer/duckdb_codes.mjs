// duckdb_codes.mjs - the peer for bench/run_drugs.sh: DuckDB finding the
// traceability codes settled more than once in the same drug lines.
//
//   node duckdb_codes.mjs CSV_DIR THREADS [DBFILE]
//
// Loads drug_items.csv (not timed), then times the query that counts every
// later sale of a code: the counterpart of the drugs model's repeated codes.
import { openPeer, removeDb, timeQuery } from './peer.mjs';

const { csvDir, threadsArg, dbFile, con } = await openPeer('duckdb_codes.mjs', 'medsweep-duckdb-codes');
await con.run(`CREATE TABLE items AS SELECT * FROM read_csv('${csvDir}/drug_items.csv', header = true,
  types = {'trace_code': 'VARCHAR', 'amount': 'DECIMAL(18,2)'})`);
const rows = Number((await con.runAndReadAll('SELECT count(*) FROM items')).getRows()[0][0]);
const query = 'SELECT sum(n - 1) FROM (SELECT count(*) AS n FROM items GROUP BY trace_code HAVING count(*) > 1)';
const { seconds, result } = await timeQuery(con, query);
const repeats = Number(result.getRows()[0][0] ?? 0);
console.log(JSON.stringify({ name: `duckdb repeated codes, ${threadsArg} threads`, records: rows, repeats,
                             seconds, codes_per_s: rows / seconds,
                             codes_per_s_per_core: rows / seconds / Number(threadsArg) }));
removeDb(dbFile);
