// hnswlib peer for experiments/ann: builds an hnswlib index (through the npm package hnswlib-node)
// on the vectors the Go side wrote, with the same M, efConstruction and seed, and times the build
// and single-thread queries at each ef, one searchKnn call per query, as the Go side does.
//
//   node hnswlib_peer.js DIR METRIC M EFC EFLIST K SEED
//
// DIR holds base.fvecs, query.fvecs and gt.ivecs (TEXMEX format: per record a little-endian int32
// dimension, then that many float32 or int32 values). METRIC is l2, cosine or ip; EFLIST is a
// comma-separated list of ef values; recall@K is computed against the first K ids of each gt row.
// SEED (taken modulo 2^32) is hnswlib's randomSeed, which draws the levels.
//
// Prints one JSON object on stdout:
//   {"library", "version", "node", "build_s", "seed", "call_overhead_us",
//    "results": [{"ef", "recall", "qps"}, ...]}
// qps is the median over 3 passes of (queries / wall time of the pass). call_overhead_us is the
// time per searchKnn call on a one-vector index: the cost of the binding itself (converting the
// query array to float32, building the result arrays), which is included in qps.
// Progress goes to stderr.
'use strict';

const fs = require('fs');
const path = require('path');
const { HierarchicalNSW } = require('hnswlib-node');

const PASSES = 3;

// readVecs reads an .fvecs (Float32Array rows) or .ivecs (Int32Array rows) file as {n, dim, data}.
function readVecs(file, Typed) {
  const buf = fs.readFileSync(file);
  if (buf.length === 0) {
    return { n: 0, dim: 0, data: new Typed(0) };
  }
  const dim = buf.readInt32LE(0);
  const rec = 4 + 4 * dim;
  if (dim <= 0 || buf.length % rec !== 0) {
    throw new Error(`${file}: not a TEXMEX file of dimension ${dim} (${buf.length} bytes)`);
  }
  const n = buf.length / rec;
  const data = new Typed(n * dim);
  for (let i = 0; i < n; i++) {
    const off = i * rec;
    if (buf.readInt32LE(off) !== dim) {
      throw new Error(`${file}: record ${i} has dimension ${buf.readInt32LE(off)}, earlier ones ${dim}`);
    }
    const row = new Typed(buf.buffer, buf.byteOffset + off + 4, dim);
    data.set(row, i * dim);
  }
  return { n, dim, data };
}

// rows returns the vectors as plain arrays of numbers, the type hnswlib-node's methods take.
function rows(v) {
  const out = new Array(v.n);
  for (let i = 0; i < v.n; i++) {
    out[i] = Array.from(v.data.subarray(i * v.dim, (i + 1) * v.dim));
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function seconds(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function main() {
  const args = process.argv.slice(2);
  if (args.length !== 7) {
    throw new Error('usage: node hnswlib_peer.js DIR METRIC M EFC EFLIST K SEED');
  }
  const [dir, metric] = args;
  const M = Number(args[2]);
  const efc = Number(args[3]);
  const efs = args[4].split(',').map(Number);
  const k = Number(args[5]);
  const seed = Number(BigInt(args[6]) & 0xffffffffn);
  if (!['l2', 'cosine', 'ip'].includes(metric)) {
    throw new Error(`unknown metric ${JSON.stringify(metric)}: want l2, cosine or ip`);
  }
  for (const [name, v] of [['M', M], ['EFC', efc], ['K', k], ...efs.map((e) => ['EFLIST', e])]) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${name}: ${JSON.stringify(v)} is not a positive integer`);
    }
  }

  const base = readVecs(path.join(dir, 'base.fvecs'), Float32Array);
  const query = readVecs(path.join(dir, 'query.fvecs'), Float32Array);
  const gt = readVecs(path.join(dir, 'gt.ivecs'), Int32Array);
  if (base.dim !== query.dim) {
    throw new Error(`base has dimension ${base.dim}, queries ${query.dim}`);
  }
  if (gt.n !== query.n || gt.dim < k) {
    throw new Error(`gt is ${gt.n} x ${gt.dim}, want ${query.n} rows of at least ${k} ids`);
  }

  // Conversion to arrays is outside the timed loops: only hnswlib-node's calls are timed.
  const baseRows = rows(base);
  const queryRows = rows(query);

  const index = new HierarchicalNSW(metric, base.dim);
  index.initIndex({ maxElements: base.n, m: M, efConstruction: efc, randomSeed: seed });
  process.stderr.write(`hnswlib peer: building ${base.n} x ${base.dim} (${metric}, M=${M}, efC=${efc}, seed ${seed})\n`);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < base.n; i++) {
    index.addPoint(baseRows[i], i);
  }
  const buildS = seconds(t0);
  process.stderr.write(`hnswlib peer: built in ${buildS.toFixed(1)} s\n`);

  const found = new Array(query.n);
  const results = [];
  for (const ef of efs) {
    index.setEf(ef);
    const qps = [];
    for (let p = 0; p < PASSES; p++) {
      t0 = process.hrtime.bigint();
      for (let q = 0; q < query.n; q++) {
        found[q] = index.searchKnn(queryRows[q], k).neighbors;
      }
      qps.push(query.n / seconds(t0));
    }
    let hits = 0;
    for (let q = 0; q < query.n; q++) {
      const truth = gt.data.subarray(q * gt.dim, q * gt.dim + k);
      for (const id of found[q]) {
        if (truth.includes(id)) {
          hits++;
        }
      }
    }
    results.push({ ef, recall: hits / (k * query.n), qps: median(qps) });
  }

  // The binding's own cost per call: the same queries on a one-vector index.
  const tiny = new HierarchicalNSW(metric, base.dim);
  tiny.initIndex({ maxElements: 1, m: M, efConstruction: efc, randomSeed: seed });
  tiny.addPoint(baseRows[0], 0);
  const overhead = [];
  for (let p = 0; p < PASSES; p++) {
    t0 = process.hrtime.bigint();
    for (let q = 0; q < query.n; q++) {
      tiny.searchKnn(queryRows[q], 1);
    }
    overhead.push((seconds(t0) / query.n) * 1e6);
  }

  const pkg = require('hnswlib-node/package.json');
  process.stdout.write(JSON.stringify({
    library: 'hnswlib-node',
    version: pkg.version,
    node: process.version,
    build_s: buildS,
    seed,
    call_overhead_us: median(overhead),
    results,
  }) + '\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(`hnswlib peer: ${e.message}\n`);
  process.exit(1);
}
