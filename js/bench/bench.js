'use strict';
// make js-bench: the native engine, WebAssembly and hnswlib-node (3.0.0, in-process) from Node on
// the same generated clustered vectors (L2, M = 16, efConstruction = 200). For each backend the
// smallest ef of a ladder with recall@10 >= 0.95 (exact neighbours by brute force), then at that
// ef: single queries (one call each, after WARMUP untimed; QPS = 1 / p50 latency) and batches of
// 100 queries per call (QPS = queries / wall time). Also the native engine's round-trip overhead
// per call (p50 of a call that does no work). Single-query QPS is 1/p50 (qps) and 1/mean
// (qps_mean). Writes {meta, rows, ratios, native_overhead} as JSON.
//
// -spin 100,0,100/0 runs the native engine once per setting of spinMicros (how long Node and the
// engine poll for each other's next frame before sleeping; see lib/native.js), N for both
// sides or N/M for Node's and the engine's: the first gives the 'native' rows, the others
// 'native-spin<N>' rows, all on the same data in the same run.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const gognn = require('../index.js');
const { rng } = require('../test/helpers.js');
const { defaultSpinMicros, defaultNodeSpinMicros } = require('../lib/native.js');

const args = process.argv.slice(2);
const flag = (name, def) => { const i = args.indexOf(`-${name}`); return i >= 0 ? args[i + 1] : def; };
const N = Number(flag('n', 10000)), DIM = Number(flag('dim', 128)), NQ = Number(flag('queries', 1000));
const OUT = flag('out', 'results/js/results.json');
// WARMUP single calls come before the timed ones, the same for every backend: over the first
// thousands of calls to a fresh native engine the p50 fell, by up to half on a loaded machine,
// even without Node's spin.
const WARMUP = 2000;
const K = 10, TARGET = 0.95, LADDER = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

// clustered returns n * DIM values in 100 clusters, each a centre plus a random 16-dimensional
// subspace (low intrinsic dimension, as embeddings have) plus a little isotropic noise. The same
// seed gives the same centres and subspaces; sample picks the points.
function clustered(n, seed, clusters = 100, rank = 16) {
  const r = rng(1000);
  const centres = new Float32Array(clusters * DIM).map(() => r.normal());
  const bases = new Float32Array(clusters * rank * DIM).map(() => r.normal() / Math.sqrt(rank));
  const s = rng(seed);
  const out = new Float32Array(n * DIM);
  const z = new Float32Array(rank);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(s.next() * clusters);
    for (let a = 0; a < rank; a++) z[a] = s.normal();
    for (let j = 0; j < DIM; j++) {
      let v = centres[c * DIM + j] + 0.05 * s.normal();
      for (let a = 0; a < rank; a++) v += 0.7 * z[a] * bases[(c * rank + a) * DIM + j];
      out[i * DIM + j] = v;
    }
  }
  return out;
}

// exact returns the K nearest of each query by brute force, kept in order by insertion (no
// garbage to collect during the timings that follow).
function exact(data, queries) {
  const truth = new Int32Array(NQ * K);
  const best = new Float64Array(K);
  for (let q = 0; q < NQ; q++) {
    const ids = truth.subarray(q * K, (q + 1) * K);
    best.fill(Infinity);
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) { const t = data[i * DIM + j] - queries[q * DIM + j]; s += t * t; }
      if (s >= best[K - 1]) continue;
      let at = K - 1;
      for (; at > 0 && best[at - 1] > s; at--) { best[at] = best[at - 1]; ids[at] = ids[at - 1]; }
      best[at] = s;
      ids[at] = i;
    }
  }
  return truth;
}

function recall(ids, truth) {
  let hit = 0;
  for (let q = 0; q < NQ; q++) {
    const t = new Set(truth.subarray(q * K, (q + 1) * K));
    for (let j = 0; j < K; j++) if (t.has(ids[q * K + j])) hit++;
  }
  return hit / (NQ * K);
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

// measure runs one backend: search(queriesFlat, ef) -> Promise<Int32Array nq*K>.
async function measure(name, search) {
  let ef = null, rec = 0;
  for (const e of LADDER) {
    rec = recall(await search(QUERIES, e), TRUTH);
    if (rec >= TARGET) { ef = e; break; }
  }
  if (ef === null) throw new Error(`${name}: recall@10 ${rec} < ${TARGET} at ef ${LADDER[LADDER.length - 1]}`);
  // Untimed warm-up, the same for every backend: JIT, caches, and the native transport's
  // measure of whether spinning pays (lib/native.js Spinner) settle on single queries.
  for (let q = 0; q < WARMUP; q++) await search(QUERIES.subarray((q % NQ) * DIM, (q % NQ + 1) * DIM), ef);
  const lat = [];
  for (let q = 0; q < NQ; q++) {
    const t0 = now();
    await search(QUERIES.subarray(q * DIM, (q + 1) * DIM), ef);
    lat.push(now() - t0);
  }
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  lat.sort((a, b) => a - b);
  const p50 = lat[lat.length >> 1];
  const t0 = now();
  for (let q = 0; q < NQ; q += 100) await search(QUERIES.subarray(q * DIM, Math.min(NQ, q + 100) * DIM), ef);
  const batchQPS = NQ / ((now() - t0) / 1000);
  const rows = [
    { backend: name, batch: 1, ef, recall_at_10: rec, qps: Math.round(1000 / p50), p50_ms: p50, qps_mean: Math.round(1000 / mean) },
    { backend: name, batch: 100, ef, recall_at_10: rec, qps: Math.round(batchQPS) },
  ];
  console.log(JSON.stringify(rows));
  return rows;
}

// spin: the native engine's spin setting, 'node/engine' µs, recorded in its rows.
async function gognnBackend(name, opts, spin) {
  const g = await gognn.open(opts);
  const info = await g.info();
  const ix = await g.createIndex({ dim: DIM, metric: 'l2', M: 16, efConstruction: 200, seed: 1 });
  const t0 = now();
  await ix.add(DATA);
  const buildS = (now() - t0) / 1000;
  const rows = await measure(name, async (q, ef) => (await ix.search(q, K, { ef })).ids);
  for (const r of rows) {
    r.build_s = buildS; r.kernels = info.kernels; r.threads = info.threads;
    if (spin) r.spin_us = spin;
  }
  let overhead = null;
  if (opts.backend === 'native') {
    const lat = [];
    for (let i = 0; i < 2000; i++) { const t = now(); await g.info(); lat.push(now() - t); }
    lat.sort((a, b) => a - b);
    overhead = { call: 'info (no work, a small JSON reply)', spin_us: spin, p50_us: 1000 * lat[lat.length >> 1], p90_us: 1000 * lat[Math.floor(lat.length * 0.9)] };
    console.log(JSON.stringify(overhead));
  }
  await g.close();
  return { rows, overhead };
}

async function hnswlibBackend() {
  const { HierarchicalNSW } = require(path.join(__dirname, 'node_modules', 'hnswlib-node'));
  const ix = new HierarchicalNSW('l2', DIM);
  ix.initIndex(N, 16, 200, 1);
  // The binding takes plain arrays; convert outside the timings (its searches get them ready).
  const toRows = (v) => Array.from({ length: v.length / DIM }, (_, i) => Array.from(v.subarray(i * DIM, (i + 1) * DIM)));
  const dataRows = toRows(DATA), queryRows = toRows(QUERIES);
  const t0 = now();
  for (let i = 0; i < N; i++) ix.addPoint(dataRows[i], i);
  const buildS = (now() - t0) / 1000;
  const rows = await measure('hnswlib-node', async (q, ef) => {
    ix.setEf(ef);
    const nq = q.length / DIM, first = (q.byteOffset - QUERIES.byteOffset) / 4 / DIM;
    const ids = new Int32Array(nq * K);
    for (let i = 0; i < nq; i++) ids.set(ix.searchKnn(queryRows[first + i], K).neighbors, i * K);
    return ids;
  });
  for (const r of rows) r.build_s = buildS;
  return { rows };
}

const DATA = clustered(N, 11);
const QUERIES = clustered(NQ, 12);
let TRUTH;

(async () => {
  const loadStart = os.loadavg();
  TRUTH = exact(DATA, QUERIES);
  const which = (flag('backends', 'native,wasm,hnswlib-node')).split(',');
  const spins = flag('spin', `${defaultNodeSpinMicros}/${defaultSpinMicros}`).split(',');
  const rows = [];
  const overhead = [];
  for (const b of which) {
    if (b === 'hnswlib-node') {
      rows.push(...(await hnswlibBackend()).rows);
    } else if (b === 'native') {
      for (const [i, spin] of spins.entries()) {
        const [node, engine = node] = spin.split('/').map(Number);
        const r = await gognnBackend(i === 0 ? 'native' : `native-spin${spin}`, { backend: 'native', spinMicros: node, engineSpinMicros: engine }, `${node}/${engine}`);
        rows.push(...r.rows);
        overhead.push(r.overhead);
      }
    } else {
      rows.push(...(await gognnBackend(b, { backend: 'wasm', wasm: 'serve' })).rows);
    }
  }
  let commit = null;
  try {
    commit = require('node:child_process').execSync('git rev-parse --short HEAD', { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch { /* not a checkout */ }
  const meta = {
    n: N, dim: DIM, queries: NQ, warmup: WARMUP, k: K, target_recall: TARGET, metric: 'l2', M: 16, efConstruction: 200,
    node: process.version, cpu: os.cpus()[0].model, cores: os.cpus().length,
    loadavg_start: loadStart, loadavg: os.loadavg(), commit, date: new Date().toISOString(),
  };
  // The ratios, in this run: each native setting against hnswlib-node, wasm against native.
  const qps = (backend, batch) => (rows.find((r) => r.backend === backend && r.batch === batch) || {}).qps;
  const ratios = [];
  for (const r of rows.filter((x) => x.backend.startsWith('native'))) {
    const other = qps('hnswlib-node', r.batch);
    if (other) ratios.push({ of: r.backend, to: 'hnswlib-node', batch: r.batch, ratio: r.qps / other });
  }
  for (const batch of [1, 100]) {
    if (qps('wasm', batch) && qps('native', batch)) ratios.push({ of: 'wasm', to: 'native', batch, ratio: qps('wasm', batch) / qps('native', batch) });
  }
  for (const x of ratios) console.log(`${x.of} / ${x.to}, batch ${x.batch}: ${x.ratio.toFixed(2)}x`);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({ meta, rows, ratios, native_overhead: overhead }, null, 2) + '\n');
  console.log(`wrote ${OUT}`);
})().catch((err) => { console.error(err); process.exit(1); });
