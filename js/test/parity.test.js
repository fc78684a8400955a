'use strict';
// A search index built, given feedback and trained in Go (js/fixture), loaded here from its
// bytes, returns Go's top-10 ids for the 1,000 test queries; model files written in Go (GCN,
// GraphSAGE, GAT) give Go's outputs on every backend, the serving build included.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const gognn = require('../index.js');
const { backends, fixtures, readTyped } = require('./helpers.js');

for (const b of backends()) {
  test(`${b.name}: a search trained in Go gives Go's top-10 ids`, async () => {
    assert.ok(fs.existsSync(path.join(fixtures, 'meta.json')), 'no fixtures: run make js (go run ./js/fixture)');
    const meta = JSON.parse(fs.readFileSync(path.join(fixtures, 'meta.json')));
    const g = await gognn.open(b.opts);
    try {
      const ix = await g.load(new Uint8Array(fs.readFileSync(path.join(fixtures, 'search.bin'))));
      const st = await ix.stats();
      assert.ok(st.steps > 0, 'the fixture was trained');
      const queries = readTyped('queries.f32', Float32Array);
      const want = readTyped('expected.i32', Int32Array);
      const got = await ix.search(queries, meta.k, { ef: meta.ef });
      let differ = 0;
      for (let q = 0; q < meta.nq; q++) {
        for (let j = 0; j < meta.k; j++) if (got.ids[q * meta.k + j] !== want[q * meta.k + j]) { differ++; break; }
      }
      assert.equal(differ, 0, `${differ} of ${meta.nq} queries' top-${meta.k} differ from Go's (Go's kernels: ${meta.kernels})`);
    } finally {
      await g.close();
    }
  });

  for (const kind of ['gcn', 'sage', 'gat']) {
    test(`${b.name}: a ${kind} model file written in Go embeds as in Go`, async () => {
      const g = await gognn.open(b.opts);
      try {
        const m = await g.loadModel(new Uint8Array(fs.readFileSync(path.join(fixtures, `model-${kind}.gnn`))));
        const gi = readTyped('graph.i32', Int32Array);
        const features = readTyped('features.f32', Float32Array);
        const want = readTyped(`logits-${kind}.f32`, Float32Array);
        const n = JSON.parse(fs.readFileSync(path.join(fixtures, 'meta.json'))).nodes;
        const out = await m.embed({ rowPtr: gi.subarray(0, n + 1), colIdx: gi.subarray(n + 1), features });
        assert.equal(out.rows, n);
        assert.equal(out.data.length, want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(out.data[i] - want[i]));
        assert.ok(worst < 1e-4, `largest difference from Go's outputs ${worst}`);
        await assert.rejects(m.embed({ rowPtr: [0, 1], colIdx: [0], features: new Float32Array(3) }), /features per node/);
        await m.close();
      } finally {
        await g.close();
      }
    });
  }
}
