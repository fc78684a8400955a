'use strict';
// The backend-independent half: requests cut from shared slabs, and responses' arrays copied out
// at every alignment.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, Index } = require('../lib/core.js');

// A transport that answers a search with the given ids and distances at byte offset pad of its
// buffer, and keeps the requests it got (with their headroom).
function fake(pad, ids, dist) {
  const seen = [];
  const transport = async (req, headroom) => {
    seen.push({ req: Uint8Array.from(req), headroom, view: req });
    const b = new Uint8Array(pad + 9 + 8 * ids.length);
    const v = new DataView(b.buffer, pad);
    v.setUint32(1, 1, true);
    v.setUint32(5, ids.length, true);
    ids.forEach((x, i) => v.setInt32(9 + 4 * i, x, true));
    dist.forEach((x, i) => v.setFloat32(9 + 4 * ids.length + 4 * i, x, true));
    return b.subarray(pad);
  };
  return { transport, seen };
}

test('core: search results are copied out whole at every alignment of the response', async () => {
  for (const n of [1, 10, 300]) { // 300: more than the scratch buffer holds at first
    const ids = Int32Array.from({ length: n }, (_, i) => i * 7 - 3);
    const dist = Float32Array.from({ length: n }, (_, i) => i / 3);
    for (let pad = 0; pad < 4; pad++) {
      const { transport } = fake(pad, ids, dist);
      const ix = new Index(new Client('fake', transport), 1, 4, false);
      const r = await ix.search(new Float32Array(4), n);
      assert.deepEqual(r.ids, ids, `n ${n}, pad ${pad}`);
      assert.deepEqual(r.distances, dist, `n ${n}, pad ${pad}`);
      assert.equal(r.ids.byteOffset, 0, 'an array of its own');
    }
  }
});

test('core: requests keep their bytes as slabs fill, and leave headroom before them', async () => {
  const { transport, seen } = fake(0, [0], [0]);
  const ix = new Index(new Client('fake', transport), 9, 64, false);
  const queries = [];
  for (let i = 0; i < 400; i++) { // 400 * ~280 bytes: several 64 KiB slabs
    const q = Float32Array.from({ length: 64 }, (_, j) => i * 64 + j);
    queries.push(q);
    await ix.search(q, 1, { ef: i });
  }
  seen.forEach(({ req, headroom, view }, i) => {
    assert.equal(headroom, 8);
    assert.ok(view.byteOffset >= 8, 'room for a frame head before the request');
    assert.deepEqual(req, view, `request ${i} changed after it was sent`);
    const v = new DataView(req.buffer, req.byteOffset);
    assert.deepEqual([req[0], v.getUint32(1, true), v.getUint32(5, true), v.getUint32(9, true)], [3, 9, 1, i]);
    assert.deepEqual(new Float32Array(req.slice(21).buffer), queries[i]);
  });
});
