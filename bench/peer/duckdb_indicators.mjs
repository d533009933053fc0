// duckdb_indicators.mjs - the peer for bench/run_peer_indicators.sh: DuckDB
// computing the sweep's indicators (docs/models.md) with SQL, on the same rows
// in its own tables, checked institution by institution against the sweep's
// indicators.csv, and timed one indicator at a time, one model at a time and
// all together.
//
//   node duckdb_indicators.mjs CSV_DIR THREADS [DBFILE] [--check INDICATORS_CSV]
//        [--repeat N] [--dump FILE] [--keep-db] [--no-prefiltered]
//
// CSV_DIR is what `medsweep export DATASET CSV_DIR` (or `medsweep gen --csv`)
// writes.  Loading it into DuckDB tables (money as BIGINT fen, dates as DATE,
// the fixed vocabularies as ENUMs) is not timed.  Every query starts from the
// raw tables and applies the sweep's data-quality filter
// (engine/sweep/ms_quality.c) itself, so that filter is inside the time.
// Each query is run once to warm up, then --repeat times (default 3); the
// median wall seconds and the CPU seconds (user + system of this process, all
// DuckDB threads included) of that run are reported.  Then (unless
// --no-prefiltered) the model and all-model statements are timed again on
// tables filtered once beforehand (units "model-prefiltered",
// "all-prefiltered"): the filter's cost to DuckDB, which the sweep pays too
// (it checks every row it reads).
//
// Output: one JSON object per line on stdout:
//   {"unit": "indicator"|"model"|"all"|"model-prefiltered"|"all-prefiltered",
//    "model", "indicators": [...], "threads",
//    "records", "seconds", "cpu_seconds", "records_per_s", "records_per_cpu_s",
//    "rows", "checked", "differing", "differing_by_indicator": {...}}
// records = settlements + drug items in the tables (the sweep's rows read).
// differing = institutions whose numerator or denominator differs from the
// sweep's indicators.csv for any of the unit's indicators (a missing row is
// (0, 0), as indicators.csv omits those); the first differences go to stderr.
//
// The rules are the defaults of `medsweep models --config`; a sweep with
// another --config would need the same values here (RULES below).
import { readFileSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { removeDb } from './peer.mjs';

// ------------------------------------------------------------ command line
const argv = process.argv.slice(2);
const pos = [];
const opt = { check: null, repeat: 3, dump: null, keepDb: false, noPrefiltered: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--check') opt.check = argv[++i];
  else if (a === '--repeat') opt.repeat = Number(argv[++i]);
  else if (a === '--dump') opt.dump = argv[++i];
  else if (a === '--keep-db') opt.keepDb = true;
  else if (a === '--no-prefiltered') opt.noPrefiltered = true;
  else if (a.startsWith('--')) { console.error(`duckdb_indicators.mjs: unknown option ${a}`); process.exit(2); }
  else pos.push(a);
}
const [csvDir, threadsArg, dbFileArg] = pos;
if (!csvDir || !threadsArg || !(opt.repeat >= 1)) {
  console.error('usage: node duckdb_indicators.mjs CSV_DIR THREADS [DBFILE] [--check INDICATORS_CSV] [--repeat N] ' +
                '[--dump FILE] [--keep-db] [--no-prefiltered]');
  process.exit(2);
}
const dbFile = dbFileArg ?? `/tmp/medsweep-duckdb-indicators-${process.pid}.duckdb`;

// ------------------------------------------------------------------ rules
// The defaults of docs/models.md / `medsweep models --config`.
const RULES = {
  overload: { outpatient: 60, inpatient: 30, pharmacy: 200 },
  light_ppm: 800000,                       // treatment_light_stay share 0.8
  batch_size: 5, surprise_sd: 4.0,         // group_admission
  minor: ['J06', 'I10', 'E11.9', 'K29', 'M54'],
  readmission_window: 15, pingpong_window: 30,
  cheap_ppm: 500000, short_share: 0.5,     // upcoding
  pre_window: 3, exam_lab_ppm: 500000, light_share_ppm: 500000, high_ppm: 350000, // cost_shift
  hoard_window: 30, hoard_multiple: 3.0, hoard_per_mille: 99000, hoard_min_inst: 3, // drugs
};

// ------------------------------------------------------------------- load
removeDb(dbFile);
const instance = await DuckDBInstance.create(dbFile, { threads: String(threadsArg) });
const con = await instance.connect();
const money = ['total', 'fund_pay', 'self_pay', 'drug', 'exam', 'lab', 'consumable', 'treatment', 'surgery', 'bed',
               'nursing', 'other'];
const fen = c => `CAST(${c} * 100 AS BIGINT) AS ${c}`;
const tLoad = performance.now();
await con.run(`CREATE TYPE visit_t AS ENUM ('outpatient', 'inpatient', 'pharmacy')`);
await con.run(`CREATE TYPE sex_t AS ENUM ('M', 'F')`);
await con.run(`CREATE TYPE dept_t AS ENUM ('IM', 'SUR', 'ORT', 'ONC', 'OPH', 'DEN', 'NEU', 'CAR', 'NEP', 'OBS', 'PED',
                                           'REH', 'GER', 'OTH')`);
await con.run(`CREATE TYPE pay_t AS ENUM ('ffs', 'drg', 'dip')`);
await con.run(`CREATE TABLE inst AS SELECT inst_code, kind, level, region, beds FROM read_csv('${csvDir}/institutions.csv',
  header = true, types = {'inst_code': 'VARCHAR', 'name': 'VARCHAR', 'kind': 'VARCHAR', 'level': 'INTEGER',
  'ownership': 'VARCHAR', 'region': 'INTEGER', 'beds': 'INTEGER'})`);
// Float columns as FLOAT (float32), parsed from their text like import does:
// the shortest text that reads back to the same float (io/ms_export.c).
await con.run(`CREATE TABLE grp AS SELECT group_code, family, CAST(severity AS INTEGER) AS severity,
  CAST(weight AS FLOAT) AS weight, mdc, CAST(surgical AS INTEGER) AS surgical,
  CAST(expected_los AS FLOAT) AS expected_los, CAST(mean_cost * 100 AS BIGINT) AS mean_cost
  FROM read_csv('${csvDir}/groups.csv', header = true, types = {'group_code': 'VARCHAR', 'family': 'VARCHAR',
  'severity': 'VARCHAR', 'weight': 'VARCHAR', 'mdc': 'VARCHAR', 'surgical': 'VARCHAR', 'expected_los': 'VARCHAR',
  'mean_cost': 'DECIMAL(18,2)'})`);
const stypes = {
  settle_id: 'UBIGINT', person_id: 'UBIGINT', inst_code: 'VARCHAR', visit_type: 'VARCHAR', admit_date: 'DATE',
  discharge_date: 'DATE', settle_date: 'DATE', age: 'INTEGER', sex: 'VARCHAR', person_region: 'INTEGER',
  dept: 'VARCHAR', doctor_id: 'UINTEGER', diag_main: 'VARCHAR', n_diag: 'INTEGER', proc_main: 'VARCHAR',
  pay_scheme: 'VARCHAR', group_code: 'VARCHAR', ...Object.fromEntries(money.map(c => [c, 'DECIMAL(18,2)'])),
};
const ty = o => JSON.stringify(o).replace(/"/g, "'");
await con.run(`CREATE TABLE settlements AS SELECT settle_id, person_id, inst_code,
  CAST(visit_type AS visit_t) AS visit_type, admit_date, discharge_date, settle_date, age, CAST(sex AS sex_t) AS sex,
  person_region, CAST(dept AS dept_t) AS dept, doctor_id, diag_main, n_diag, proc_main,
  CAST(pay_scheme AS pay_t) AS pay_scheme, group_code, ${money.map(fen).join(', ')}
  FROM read_csv('${csvDir}/settlements.csv', header = true, types = ${ty(stypes)})`);
try {
  // The 20-digit code as one 128-bit integer (the engine keeps two uint64):
  // the same equality as the text, without comparing 20-byte strings.
  await con.run(`CREATE TABLE drug_items AS SELECT settle_id, person_id, inst_code, date, drug_code,
    CAST(trace_code AS HUGEINT) AS trace_code, qty,
    ${fen('amount')} FROM read_csv('${csvDir}/drug_items.csv', header = true, types = {'settle_id': 'UBIGINT',
    'person_id': 'UBIGINT', 'inst_code': 'VARCHAR', 'date': 'DATE', 'drug_code': 'VARCHAR', 'trace_code': 'VARCHAR',
    'qty': 'BIGINT', 'amount': 'DECIMAL(18,2)'})`);
} catch (e) {
  if (!/No files found|does not exist/.test(String(e))) throw e;
  // no drug items: an empty table of the same columns
  await con.run(`CREATE TABLE drug_items (settle_id UBIGINT, person_id UBIGINT, inst_code VARCHAR, date DATE,
    drug_code VARCHAR, trace_code HUGEINT, qty BIGINT, amount BIGINT)`);
}
await con.run('CHECKPOINT');
const loadSeconds = (performance.now() - tLoad) / 1000;
const one = async q => (await con.runAndReadAll(q)).getRows()[0];
const [nSettle, minDay, maxDay] = await one(
  `SELECT count(*), min(settle_date) - DATE '1970-01-01', max(settle_date) - DATE '1970-01-01' FROM settlements`);
const [nItems] = await one('SELECT count(*) FROM drug_items');
const records = Number(nSettle) + Number(nItems);
// The window of admission_rate and group_admission: the dataset's settle
// dates (every row, as the partitions' min_date/max_date attributes hold).
const windowDays = nSettle > 0n ? Number(maxDay) - Number(minDay) + 1 : 0;
console.error(`duckdb_indicators: loaded ${nSettle} settlements and ${nItems} drug items in ${loadSeconds.toFixed(1)} s` +
              ` (not timed), window ${windowDays} days, ${threadsArg} threads`);

// ---------------------------------------------------------------- queries
// Data quality (engine/sweep/ms_quality.c): a settlement is kept when its
// institution and group (if any) are known, admit <= discharge <= settle,
// no amount is negative, and the nine categories and fund + self each add up
// to the total exactly.  (Diagnoses and procedures are dictionary codes of
// the data itself: always known.)  A drug item: known institution, amount >= 0.
const cats = ['drug', 'exam', 'lab', 'consumable', 'treatment', 'surgery', 'bed', 'nursing', 'other'];
const BASE = {
  s: `SELECT * FROM settlements WHERE admit_date <= discharge_date AND discharge_date <= settle_date
      AND ${money.map(c => `${c} >= 0`).join(' AND ')} AND ${cats.join(' + ')} = total AND fund_pay + self_pay = total
      AND inst_code IN (SELECT inst_code FROM inst)
      AND (group_code IS NULL OR group_code IN (SELECT group_code FROM grp))`,
  d: `SELECT * FROM drug_items WHERE amount >= 0 AND inst_code IN (SELECT inst_code FROM inst)`,
};
const R = RULES;
const big = x => `CAST(${x} AS BIGINT)`;

// A unit: the indicators of one model computed by one SELECT (ctes: the
// helper CTEs it needs, named uniquely, besides s and d); it yields
// (inst_code, indicator, num, den).
const units = [];
const unit = (model, indicators, select, ctes = {}) => units.push({ model, indicators, select, ctes });

// volume: one GROUP BY per table, unpivoted.
const volS = `SELECT inst_code, count(*) AS n, count(*) FILTER (WHERE visit_type = 'inpatient') AS inp,
  count(*) FILTER (WHERE visit_type = 'outpatient') AS outp, count(*) FILTER (WHERE visit_type = 'pharmacy') AS phar,
  count(DISTINCT person_id) AS persons, sum(total) AS tot, sum(fund_pay) AS fund FROM s GROUP BY inst_code`;
const volD = `SELECT inst_code, count(*) AS n, sum(amount) AS amt FROM d GROUP BY inst_code`;
const volPick = (name, num, den, from) => `SELECT inst_code, '${name}' AS indicator, ${big(num)} AS num, ${big(den)} AS den FROM ${from}`;
unit('volume', ['settlements', 'inpatient_stays', 'outpatient_visits', 'pharmacy_purchases', 'persons', 'total_cost',
                'fund_payment', 'drug_items', 'drug_item_amount'],
  [volPick('settlements', 'n', 0, 'vol_s'), volPick('inpatient_stays', 'inp', 'n', 'vol_s'),
   volPick('outpatient_visits', 'outp', 'n', 'vol_s'), volPick('pharmacy_purchases', 'phar', 'n', 'vol_s'),
   volPick('persons', 'persons', 0, 'vol_s'), volPick('total_cost', 'tot', 0, 'vol_s'),
   volPick('fund_payment', 'fund', 0, 'vol_s'), volPick('drug_items', 'n', 0, 'vol_d'),
   volPick('drug_item_amount', 'amt', 0, 'vol_d')].join('\nUNION ALL\n'),
  { vol_s: volS, vol_d: volD });

// overload: doctor-days (doctor, visit type, settle day) over their ceiling;
// num = the institution's settlements on them, den = its settlements with a
// known doctor.
unit('overload', ['overloaded_doctor_days'], `SELECT x.inst_code, 'overloaded_doctor_days' AS indicator,
    ${big('count(o.doctor_id)')} AS num, ${big('count(*)')} AS den
  FROM (SELECT inst_code, doctor_id, visit_type, settle_date FROM s WHERE doctor_id <> 0) x
  LEFT JOIN ov_days o USING (doctor_id, visit_type, settle_date) GROUP BY x.inst_code`,
  { ov_days: `SELECT doctor_id, visit_type, settle_date FROM s WHERE doctor_id <> 0 GROUP BY ALL
      HAVING count(*) > CASE visit_type WHEN 'outpatient' THEN ${R.overload.outpatient}
                                       WHEN 'inpatient' THEN ${R.overload.inpatient} ELSE ${R.overload.pharmacy} END` });

// false_hosp
// overlapping_stay: a stay (discharge - admit >= 2) during which the person
// has a settlement at another institution dated strictly inside it.
unit('false_hosp', ['overlapping_stay'], `SELECT inst_code, 'overlapping_stay' AS indicator,
    ${big('count_if(f)')} AS num, ${big('count(*)')} AS den FROM (
    SELECT i.inst_code, i.discharge_date - i.admit_date >= 2 AND EXISTS (SELECT 1 FROM s j
        WHERE j.person_id = i.person_id AND j.inst_code <> i.inst_code
          AND j.settle_date > i.admit_date AND j.settle_date < i.discharge_date) AS f
    FROM s i WHERE i.visit_type = 'inpatient') GROUP BY inst_code`);
// treatment_light_stay: bed + nursing + other >= 0.8 total, exactly in ppm,
// over stays with total > 0 outside REH and GER.
unit('false_hosp', ['treatment_light_stay'], `SELECT inst_code, 'treatment_light_stay' AS indicator,
    ${big(`count_if((bed + nursing + other) * 1000000 >= total * ${R.light_ppm})`)} AS num, ${big('count(*)')} AS den
  FROM s WHERE visit_type = 'inpatient' AND total > 0 AND dept NOT IN ('REH', 'GER') GROUP BY inst_code`);
// group_admission: per (institution, county other than its own) the stays
// not operated (surgical group with a procedure); with n >= batch_size, a
// day with c >= max(batch_size, lambda + sd sqrt(lambda)), lambda = n / window
// days, flags its c stays.  den = the institution's stays.
unit('false_hosp', ['group_admission'], `SELECT st.inst_code, 'group_admission' AS indicator,
    ${big('coalesce(any_value(ga_flag.num), 0)')} AS num, ${big('count(*)')} AS den
  FROM s st LEFT JOIN ga_flag USING (inst_code) WHERE st.visit_type = 'inpatient' GROUP BY st.inst_code`,
  {
    ga_days: `SELECT s.inst_code, s.person_region, s.admit_date, count(*) AS c
      FROM s JOIN inst ON inst.inst_code = s.inst_code LEFT JOIN grp ON grp.group_code = s.group_code
      WHERE s.visit_type = 'inpatient' AND s.person_region <> inst.region
        AND NOT coalesce(grp.surgical = 1 AND s.proc_main IS NOT NULL, false)
      GROUP BY ALL`,
    ga_flag: `SELECT inst_code, sum(c) AS num FROM (
        SELECT inst_code, c, CAST(sum(c) OVER (PARTITION BY inst_code, person_region) AS DOUBLE) / ${windowDays}.0 AS lam,
               sum(c) OVER (PARTITION BY inst_code, person_region) AS n FROM ga_days)
      WHERE n >= ${R.batch_size}
        AND CAST(c AS DOUBLE) >= greatest(${R.batch_size}.0, ${R.surprise_sd > 0 ? `lam + ${R.surprise_sd} * sqrt(lam)` : '0.0'})
      GROUP BY inst_code`,
  });
// minor_diagnosis_admission: the main diagnosis starts with an item of the list.
unit('false_hosp', ['minor_diagnosis_admission'], `SELECT inst_code, 'minor_diagnosis_admission' AS indicator,
    ${big(`count_if(${R.minor.map(m => `starts_with(diag_main, '${m}')`).join(' OR ')})`)} AS num,
    ${big('count(*)')} AS den FROM s WHERE visit_type = 'inpatient' GROUP BY inst_code`);
// beds_overflow: the peak census (a stay is in a bed on admit .. discharge - 1,
// a same-day stay on its day) at institutions with beds; den = beds, for
// every institution with beds (also without stays).
unit('false_hosp', ['beds_overflow'], `SELECT inst.inst_code, 'beds_overflow' AS indicator,
    ${big('greatest(coalesce(max(bo_run.census), 0), 0)')} AS num, ${big('any_value(inst.beds)')} AS den
  FROM inst LEFT JOIN bo_run USING (inst_code) WHERE inst.beds > 0 GROUP BY inst.inst_code`,
  {
    bo_run: `SELECT inst_code, sum(delta) OVER (PARTITION BY inst_code ORDER BY day ROWS UNBOUNDED PRECEDING) AS census
      FROM (SELECT inst_code, day, sum(delta) AS delta FROM (
          SELECT s.inst_code, s.admit_date AS day, 1 AS delta FROM s JOIN inst USING (inst_code)
            WHERE s.visit_type = 'inpatient' AND inst.beds > 0
          UNION ALL
          SELECT s.inst_code, CASE WHEN s.discharge_date > s.admit_date THEN s.discharge_date ELSE s.admit_date + 1 END,
                 -1 FROM s JOIN inst USING (inst_code) WHERE s.visit_type = 'inpatient' AND inst.beds > 0)
        GROUP BY ALL)`,
  });
// admission_rate: stays x 365 over beds x window days, institutions with beds.
unit('false_hosp', ['admission_rate'], `SELECT inst.inst_code, 'admission_rate' AS indicator,
    ${big('count(st.inst_code) * 365')} AS num, ${big(`any_value(inst.beds) * ${windowDays}`)} AS den
  FROM inst LEFT JOIN (SELECT inst_code FROM s WHERE visit_type = 'inpatient') st USING (inst_code)
  WHERE inst.beds > 0 AND ${windowDays} > 0 GROUP BY inst.inst_code`);

// decomposed: a person's stays in (admit_date, settle_id) order.
const decStays = `SELECT s.settle_id, s.person_id, s.inst_code, s.admit_date, s.discharge_date,
    left(s.diag_main, 3) AS cat, grp.mdc, s.dept
  FROM s LEFT JOIN grp ON grp.group_code = s.group_code WHERE s.visit_type = 'inpatient'`;
// readmission_15 / same_day_readmission: the previous stay of the person at
// the same institution (LAG over (person, institution)); gap = admit -
// its discharge.
unit('decomposed', ['readmission_15'], `SELECT inst_code, 'readmission_15' AS indicator,
    ${big(`count_if(coalesce(gap BETWEEN 0 AND ${R.readmission_window} AND (cat = pcat OR mdc = pmdc) AND dept <> 'ONC', false))`)} AS num,
    ${big('count(*)')} AS den FROM (
    SELECT inst_code, admit_date - lag(discharge_date) OVER w AS gap, cat, lag(cat) OVER w AS pcat,
           mdc, lag(mdc) OVER w AS pmdc, dept
    FROM rd_stays WINDOW w AS (PARTITION BY person_id, inst_code ORDER BY admit_date, settle_id))
  GROUP BY inst_code`, { rd_stays: decStays });
unit('decomposed', ['same_day_readmission'], `SELECT inst_code, 'same_day_readmission' AS indicator,
    ${big('count_if(coalesce(gap = 0, false))')} AS num, ${big('count(*)')} AS den FROM (
    SELECT inst_code, admit_date - lag(discharge_date) OVER (PARTITION BY person_id, inst_code
                                                             ORDER BY admit_date, settle_id) AS gap
    FROM s WHERE visit_type = 'inpatient')
  GROUP BY inst_code`);
// transfer_pingpong: consecutive stays A at X, B at Y != X, C at X, both gaps
// in 0..window: B and C flagged, each stay once: a stay is flagged when the
// triple ending at it, or at the next stay, is one.
unit('decomposed', ['transfer_pingpong'], `SELECT inst_code, 'transfer_pingpong' AS indicator,
    ${big('count_if(ok OR coalesce(next_ok, false))')} AS num, ${big('count(*)')} AS den FROM (
    SELECT inst_code, ok, lead(ok) OVER w AS next_ok FROM (
      SELECT person_id, settle_id, admit_date, inst_code, coalesce(
          lag(inst_code, 2) OVER w = inst_code AND lag(inst_code, 1) OVER w <> inst_code
          AND lag(admit_date, 1) OVER w - lag(discharge_date, 2) OVER w BETWEEN 0 AND ${R.pingpong_window}
          AND admit_date - lag(discharge_date, 1) OVER w BETWEEN 0 AND ${R.pingpong_window}, false) AS ok
      FROM s WHERE visit_type = 'inpatient' WINDOW w AS (PARTITION BY person_id ORDER BY admit_date, settle_id))
    WINDOW w AS (PARTITION BY person_id ORDER BY admit_date, settle_id))
  GROUP BY inst_code`);

// upcoding: grouped stays (inpatient, DRG or DIP, with a group).
const grouped = `SELECT s.inst_code, s.total, s.n_diag, s.discharge_date - s.admit_date AS los, grp.*
  FROM s JOIN grp ON grp.group_code = s.group_code WHERE s.visit_type = 'inpatient' AND s.pay_scheme IN ('drg', 'dip')`;
unit('upcoding', ['severity_share'], `SELECT inst_code, 'severity_share' AS indicator,
    ${big('count_if(severity >= 1)')} AS num, ${big('count(*)')} AS den
  FROM up_sev WHERE family IN (SELECT family FROM grp GROUP BY family HAVING count(DISTINCT severity) > 1)
  GROUP BY inst_code`, { up_sev: grouped });
unit('upcoding', ['cost_to_weight'], `SELECT inst_code, 'cost_to_weight' AS indicator,
    ${big(`count_if(total * 1000000 < mean_cost * ${R.cheap_ppm})`)} AS num, ${big('count(*)')} AS den
  FROM up_cost GROUP BY inst_code`, { up_cost: grouped });
unit('upcoding', ['short_severe_stay'], `SELECT inst_code, 'short_severe_stay' AS indicator,
    ${big(`count_if(CAST(los AS DOUBLE) < ${R.short_share} * CAST(expected_los AS DOUBLE))`)} AS num,
    ${big('count(*)')} AS den FROM up_short WHERE severity >= 1 GROUP BY inst_code`, { up_short: grouped });
unit('upcoding', ['diagnosis_inflation'], `SELECT inst_code, 'diagnosis_inflation' AS indicator,
    ${big('sum(n_diag)')} AS num, ${big('count(*)')} AS den FROM up_diag WHERE severity >= 1 GROUP BY inst_code`,
  { up_diag: grouped });
unit('upcoding', ['case_mix_index'], `SELECT inst_code, 'case_mix_index' AS indicator,
    ${big('sum(CAST(round(CAST(weight AS DOUBLE) * 1000.0) AS BIGINT))')} AS num, ${big('count(*) * 1000')} AS den
  FROM up_cmi GROUP BY inst_code`, { up_cmi: grouped });

// cost_shift
// preadmission_costs: a grouped stay (total > 0) preceded, 1..window days
// before admission, by an outpatient settlement of the person at the same
// institution with exam + lab > 0 and >= exam_lab_share of its total, and
// light: floor(10^6 (exam + lab) / total) x 10^6 < light_ppm x its group's
// nearest-rank median (rank ceil(n/2)) over the group's stays with total > 0.
const csStays = `SELECT settle_id, person_id, inst_code, group_code, admit_date, total, exam + lab AS el
  FROM s WHERE visit_type = 'inpatient' AND group_code IS NOT NULL AND pay_scheme IN ('drg', 'dip')`;
unit('cost_shift', ['preadmission_costs'], `SELECT g.inst_code, 'preadmission_costs' AS indicator,
    ${big(`count_if(g.total > 0 AND g.el * 1000000 // g.total * 1000000 < ${R.light_share_ppm} * m.median
      AND EXISTS (SELECT 1 FROM s o WHERE o.person_id = g.person_id AND o.inst_code = g.inst_code
        AND o.visit_type = 'outpatient' AND o.admit_date >= g.admit_date - ${R.pre_window} AND o.admit_date < g.admit_date
        AND o.exam + o.lab > 0 AND (o.exam + o.lab) * 1000000 >= o.total * ${R.exam_lab_ppm}))`)} AS num,
    ${big('count(*)')} AS den
  FROM cs_stays g LEFT JOIN cs_median m USING (group_code) GROUP BY g.inst_code`,
  {
    cs_stays: csStays,
    cs_median: `SELECT group_code, share AS median FROM (
        SELECT group_code, el * 1000000 // total AS share,
               row_number() OVER (PARTITION BY group_code ORDER BY el * 1000000 // total) AS rn,
               count(*) OVER (PARTITION BY group_code) AS n
        FROM cs_stays WHERE total > 0) WHERE rn = (n + 1) // 2`,
  });
unit('cost_shift', ['self_pay_share'], `SELECT inst_code, 'self_pay_share' AS indicator,
    ${big(`count_if(self_pay * 1000000 >= total * ${R.high_ppm})`)} AS num, ${big('count(*)')} AS den
  FROM s WHERE visit_type = 'inpatient' AND group_code IS NOT NULL AND pay_scheme IN ('drg', 'dip') AND total > 0
  GROUP BY inst_code`);

// drugs: den = the institution's coded drug lines.
// repeated_trace_code / first_sale_of_repeated_code: per code sold more than
// once, the first sale by (date, settle_id) and the later ones.
const repCodes = `SELECT trace_code, arg_min(inst_code, (date, settle_id)) AS first_inst FROM d
  GROUP BY trace_code HAVING count(*) > 1`;
unit('drugs', ['repeated_trace_code'], `SELECT d.inst_code, 'repeated_trace_code' AS indicator,
    ${big('count(r.trace_code) - coalesce(any_value(f.n), 0)')} AS num, ${big('count(*)')} AS den
  FROM d LEFT JOIN dr_codes r USING (trace_code)
  LEFT JOIN (SELECT first_inst AS inst_code, count(*) AS n FROM dr_codes GROUP BY ALL) f ON f.inst_code = d.inst_code
  GROUP BY d.inst_code`, { dr_codes: repCodes });
unit('drugs', ['first_sale_of_repeated_code'], `SELECT d.inst_code, 'first_sale_of_repeated_code' AS indicator,
    ${big('coalesce(any_value(f.n), 0)')} AS num, ${big('count(*)')} AS den
  FROM d LEFT JOIN (SELECT first_inst AS inst_code, count(*) AS n FROM df_codes GROUP BY ALL) f USING (inst_code)
  GROUP BY d.inst_code`, { df_codes: repCodes });
// hoarding_buyer_share: per (person, drug) the largest qty over any window of
// window_days days (RANGE frame: lines dated d - window + 1 .. d) and the
// distinct institutions; per drug the nearest-rank percentile p of its
// buyers' maxima (rank ceil(percentile/100 x buyers), in thousandths); a
// hoarder has max > multiple x p and >= min_institutions institutions; num =
// the institution's lines of the drug sold to its hoarders.
unit('drugs', ['hoarding_buyer_share'], `SELECT d.inst_code, 'hoarding_buyer_share' AS indicator,
    ${big('count(h.person_id)')} AS num, ${big('count(*)')} AS den
  FROM d LEFT JOIN dh_hoarders h USING (person_id, drug_code) GROUP BY d.inst_code`,
  {
    dh_buyers: `SELECT person_id, drug_code, max(wq) AS max_qty, count(DISTINCT inst_code) AS n_inst FROM (
        SELECT person_id, drug_code, inst_code, sum(qty) OVER (PARTITION BY person_id, drug_code ORDER BY date
          RANGE BETWEEN INTERVAL ${R.hoard_window - 1} DAYS PRECEDING AND CURRENT ROW) AS wq FROM d)
      GROUP BY ALL`,
    dh_pct: `SELECT drug_code, max_qty AS p FROM (
        SELECT drug_code, max_qty, row_number() OVER (PARTITION BY drug_code ORDER BY max_qty) AS rn,
               count(*) OVER (PARTITION BY drug_code) AS m FROM dh_buyers)
      WHERE rn = least(m, greatest(1, (m * ${R.hoard_per_mille} + 99999) // 100000))`,
    dh_hoarders: `SELECT b.person_id, b.drug_code FROM dh_buyers b JOIN dh_pct USING (drug_code)
      WHERE b.n_inst >= ${R.hoard_min_inst} AND CAST(b.max_qty AS DOUBLE) > ${R.hoard_multiple} * CAST(dh_pct.p AS DOUBLE)`,
  });

// One statement computing the given units (UNION ALL), rows with num = den = 0 left out.
function statement(us, base = BASE) {
  const ctes = [`s AS NOT MATERIALIZED (${base.s})`, `d AS NOT MATERIALIZED (${base.d})`];
  const seen = new Set();
  for (const u of us)
    for (const [name, sql] of Object.entries(u.ctes))
      if (!seen.has(name)) { seen.add(name); ctes.push(`${name} AS (${sql})`); }
  const body = us.map(u => `SELECT inst_code, '${u.model}' AS model, indicator, num, den FROM (${u.select})`)
    .join('\nUNION ALL\n');
  return `WITH ${ctes.join(',\n')}\nSELECT * FROM (${body}) WHERE num <> 0 OR den <> 0`;
}

// ------------------------------------------------------------------ check
const truth = new Map(); // "inst|model|indicator" -> "num,den"
if (opt.check) {
  const lines = readFileSync(opt.check, 'utf8').split('\n');
  for (const line of lines.slice(1)) {
    if (!line) continue;
    // inst_code,model,indicator,numerator,numerator_unit,denominator,denominator_unit;
    // an amount is in yuan with two decimals: back to fen, as the SQL sums it.
    const f = line.split(',');
    if (f.length !== 7) throw new Error(`${opt.check}: unexpected line ${line}`);
    const fen = (v, unit) => (unit === 'yuan' ? BigInt(v.replace('.', '')).toString() : v);
    truth.set(`${f[0]}|${f[1]}|${f[2]}`, `${fen(f[3], f[4])},${fen(f[5], f[6])}`);
  }
}
let shown = 0;
function check(us, rows) {
  if (!opt.check) return { checked: false, differing: null, differing_by_indicator: null };
  const got = new Map();
  for (const [inst, model, ind, num, den] of rows) got.set(`${inst}|${model}|${ind}`, `${num},${den}`);
  const wanted = new Set(us.flatMap(u => u.indicators.map(i => `${u.model}|${i}`)));
  const keys = new Set(got.keys());
  for (const k of truth.keys()) if (wanted.has(k.slice(k.indexOf('|') + 1))) keys.add(k);
  const bad = new Set(), byInd = {};
  for (const w of wanted) byInd[w.split('|')[1]] = 0;
  for (const k of keys) {
    const a = got.get(k) ?? '0,0', b = truth.get(k) ?? '0,0';
    if (a === b) continue;
    const [inst, , ind] = k.split('|');
    bad.add(inst);
    byInd[ind]++;
    if (shown++ < 20) console.error(`duckdb_indicators: differs: ${k}: duckdb ${a}, sweep ${b}`);
  }
  return { checked: true, differing: bad.size, differing_by_indicator: byInd };
}

// ------------------------------------------------------------------- time
async function timed(sql) {
  await con.runAndReadAll(sql); // warm-up
  const runs = [];
  for (let i = 0; i < opt.repeat; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    const result = await con.runAndReadAll(sql);
    const seconds = (performance.now() - t0) / 1000, cu = process.cpuUsage(c0);
    runs.push({ seconds, cpu: (cu.user + cu.system) / 1e6, result });
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  return runs[(runs.length - 1) >> 1];
}

const report = (kind, model, us, r) => {
  const rows = r.result.getRows().map(row => row.map(v => (typeof v === 'bigint' ? v.toString() : v)));
  const c = check(us, rows);
  console.log(JSON.stringify({
    unit: kind, model, indicators: us.flatMap(u => u.indicators), threads: Number(threadsArg), records,
    seconds: r.seconds, cpu_seconds: r.cpu, records_per_s: records / r.seconds, records_per_cpu_s: records / r.cpu,
    rows: rows.length, ...c,
  }));
  return rows;
};

const models = [...new Set(units.map(u => u.model))];
for (const m of models) {
  const mine = units.filter(u => u.model === m);
  if (mine.length > 1) for (const u of mine) report('indicator', m, [u], await timed(statement([u])));
  report('model', m, mine, await timed(statement(mine)));
}
const all = report('all', 'all', units, await timed(statement(units)));

// The same statements on tables filtered once beforehand (not timed), as if
// the filter were part of loading: what the filter costs DuckDB per query.
if (!opt.noPrefiltered) {
  await con.run(`CREATE TABLE settlements_ok AS ${BASE.s}`);
  await con.run(`CREATE TABLE drug_items_ok AS ${BASE.d}`);
  await con.run('CHECKPOINT');
  const pre = { s: 'SELECT * FROM settlements_ok', d: 'SELECT * FROM drug_items_ok' };
  for (const m of models)
    report('model-prefiltered', m, units.filter(u => u.model === m),
           await timed(statement(units.filter(u => u.model === m), pre)));
  report('all-prefiltered', 'all', units, await timed(statement(units, pre)));
}
if (opt.dump) {
  writeFileSync(opt.dump, 'inst_code,model,indicator,numerator,denominator\n' +
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(r => r.join(',')).join('\n') + '\n');
}
con.closeSync?.();
if (!opt.keepDb) removeDb(dbFile);
