'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const gognn = require('../index.js');
const { backends, clustered } = require('./helpers.js');

for (const b of backends()) {
  test(`${b.name}: API`, async (t) => {
    assert.ok(b.present, `backend ${b.name} is not built: run make js`);
    const g = await gognn.open(b.opts);
    t.after(() => g.close());
    const dim = 16;
    const data = clustered(500, dim, 1);

    await t.test('add and search find each vector first', async () => {
      const ix = await g.createIndex({ dim, metric: 'cosine', M: 16, efConstruction: 100, seed: 1 });
      const ids = await ix.add(data);
      assert.equal(ids.length, 500);
      assert.deepEqual(Array.from(ids.subarray(0, 3)), [0, 1, 2]);
      const q = data.subarray(0, 10 * dim);
      const r = await ix.search(q, 5, { ef: 50 });
      assert.equal(r.ids.length, 50);
      for (let i = 0; i < 10; i++) assert.equal(r.ids[i * 5], i, `query ${i}`);
      const ex = await ix.search(data.subarray(0, dim), 5, { ef: 50, exclude: [0] });
      assert.ok(!ex.ids.includes(0));
      const st = await ix.stats();
      assert.equal(st.live, 500);
      assert.equal(st.dim, dim);
      await ix.close();
    });

    await t.test('save and load give the same results', async () => {
      for (const metric of ['cosine', 'l2']) {
        const ix = await g.createIndex({ dim, metric, seed: 2 });
        await ix.add(data);
        const bytes = await ix.save();
        assert.ok(bytes instanceof Uint8Array && bytes.length > 500 * dim * 4);
        const ix2 = await g.load(bytes);
        assert.equal(ix2.dim, dim);
        const q = data.subarray(0, 50 * dim);
        const a = await ix.search(q, 10, { ef: 64 });
        const c = await ix2.search(q, 10, { ef: 64 });
        assert.deepEqual(c.ids, a.ids, metric);
        await ix.close();
        await ix2.close();
      }
    });

    await t.test('feedback and train', async () => {
      const ix = await g.createIndex({ dim, seed: 3 });
      await ix.add(data);
      for (let i = 0; i < 40; i++) {
        const q = data.subarray(i * dim, (i + 1) * dim);
        const r = await ix.search(q, 10, { ef: 100 });
        await ix.feedback(q, r.ids, Array.from(r.ids, (id, j) => j % 2 === 0), { ef: 100 });
      }
      const st = await ix.stats();
      assert.equal(st.totalEvents, 40);
      const info = await g.info();
      if (info.training) {
        const tr = await ix.train();
        assert.ok(tr.steps > 0 && Number.isFinite(tr.loss), JSON.stringify(tr));
      } else {
        await assert.rejects(ix.train(), /without the training stack/);
      }
      await ix.close();
    });

    await t.test('bad input throws a clear Error', async () => {
      const ix = await g.createIndex({ dim, seed: 4 });
      await ix.add(data.subarray(0, 20 * dim));
      await assert.rejects(ix.add(new Float32Array(dim + 1)), /not a whole number of vectors of dimension 16/);
      await assert.rejects(ix.add([1, 2, 3]), /must be a Float32Array/);
      const nan = new Float32Array(dim);
      nan[3] = NaN;
      await assert.rejects(ix.add(nan), /vector 0 has NaN at position 3/);
      await assert.rejects(ix.search(nan, 3), /NaN/);
      await assert.rejects(ix.search(data.subarray(0, dim), 0), /k = 0/);
      await assert.rejects(g.load(new Uint8Array([1, 2, 3, 4])), /not a saved index/);
      const saved = await ix.save();
      saved[saved.length - 7] ^= 0xff;
      await assert.rejects(g.load(saved), /checksum|corrupt/i);
      await assert.rejects(g.loadModel(new Uint8Array(10)), Error);
      await assert.rejects(g.createIndex({ dim, metric: 'l2', learn: true }), /cosine/);
      await assert.rejects(g.createIndex({ dim: 0 }), /dim = 0/);
      await ix.close();
      await assert.rejects(ix.search(data.subarray(0, dim), 3), /closed index/);
      const plain = await g.createIndex({ dim, metric: 'l2' });
      await plain.add(data.subarray(0, 10 * dim));
      await assert.rejects(plain.train(), /plain HNSW index/);
      await plain.close();
    });
  });
}
