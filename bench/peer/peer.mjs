// peer.mjs - what the DuckDB peers (duckdb_*.mjs) share: their command line,
// a fresh database, the timing of a query, and the cleanup.
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';

const instances = []; // open for the life of the process

// Remove a database file and its write-ahead log.
export function removeDb(dbFile) {
  rmSync(dbFile, { force: true });
  rmSync(dbFile + '.wal', { force: true });
}

// The command line of the peer `script`, CSV_DIR THREADS [DBFILE] (without
// the first two: its usage, exit status 2), and a connection to a new
// database in DBFILE (default /tmp/NAME-PID.duckdb) on THREADS threads.
export async function openPeer(script, name) {
  const [csvDir, threadsArg, dbFileArg] = process.argv.slice(2);
  if (!csvDir || !threadsArg) {
    console.error(`usage: node ${script} CSV_DIR THREADS [DBFILE]`);
    process.exit(2);
  }
  const dbFile = dbFileArg ?? `/tmp/${name}-${process.pid}.duckdb`;
  removeDb(dbFile);
  const instance = await DuckDBInstance.create(dbFile, { threads: String(threadsArg) });
  instances.push(instance);
  const con = await instance.connect();
  return { csvDir, threadsArg, dbFile, con };
}

// Run query once to warm up, then three times timed: the median seconds and
// the last run's result.
export async function timeQuery(con, query) {
  await con.runAndReadAll(query); // warm-up
  const times = [];
  let result;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    result = await con.runAndReadAll(query);
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[1], result };
}
