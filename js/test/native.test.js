'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const gognn = require('../index.js');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startNative, enginePath, Spinner, requestKind } = require('../lib/native.js');
const { Client } = require('../lib/core.js');
const { clustered } = require('./helpers.js');

test('native: the engine dying rejects pending and later calls', async () => {
  const file = enginePath();
  assert.ok(file, 'no native engine: run make js');
  const { transport, shutdown, child } = startNative(file);
  const g = new Client('native', transport, shutdown);
  const ix = await g.createIndex({ dim: 8 });
  await ix.add(clustered(2000, 8, 5));
  const calls = [];
  for (let i = 0; i < 50; i++) calls.push(ix.search(clustered(100, 8, i), 10, { ef: 100 }));
  child.kill('SIGKILL');
  const settled = await Promise.allSettled(calls);
  const rejected = settled.filter((s) => s.status === 'rejected');
  assert.ok(rejected.length > 0, 'some calls were pending when the engine died');
  for (const s of rejected) assert.match(s.reason.message, /native engine exited \(signal SIGKILL\)/);
  await assert.rejects(ix.stats(), /native engine exited/);
});

test('auto picks the native engine when present', async () => {
  const g = await gognn.open();
  assert.equal(g.backend, enginePath() ? 'native' : 'wasm');
  const info = await g.info();
  assert.equal(info.training, true);
  await g.close();
});

// stub writes a stand-in engine (a Node script) that speaks the frame protocol, for the
// transport's own paths; it ignores the -spin argument.
function stub(t, body) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gognn-stub-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'engine');
  fs.writeFileSync(file, `#!${process.execPath}
'use strict';
const fs = require('node:fs');
let buf = Buffer.alloc(0);
const frames = [];
let busyWriting = false;
const busy = (us) => { const end = process.hrtime.bigint() + BigInt(us * 1000); while (process.hrtime.bigint() < end); };
// next answers the frames one at a time: onFrame(f, done) calls done when f's response is out.
const next = () => {
  if (busyWriting || !frames.length) return;
  busyWriting = true;
  onFrame(frames.shift(), () => { busyWriting = false; next(); });
};
process.stdin.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
    const n = buf.readUInt32LE(0);
    frames.push({ id: buf.readUInt32LE(4), body: buf.subarray(8, 4 + n) });
    buf = buf.subarray(4 + n);
  }
  next();
});
${body}
`, { mode: 0o755 });
  return file;
}

// respond frames an OK response echoing the request's body.
const respond = `
const respond = (f) => {
  const out = Buffer.alloc(9 + f.body.length);
  out.writeUInt32LE(5 + f.body.length, 0);
  out.writeUInt32LE(f.id, 4);
  f.body.copy(out, 9);
  return out;
};`;

test('native: a response split across reads, inside and past the spin, arrives whole', async (t) => {
  const file = stub(t, `${respond}
const onFrame = (f, done) => {
  const out = respond(f);
  fs.writeSync(1, out.subarray(0, 3));        // part of the length
  busy(20);                                   // within the spin
  fs.writeSync(1, out.subarray(3, 10));       // the rest of the head, a byte of the body
  setTimeout(() => { fs.writeSync(1, out.subarray(10)); done(); }, 5); // past the spin
};`);
  const { transport, shutdown, spinner, spunReads } = startNative(file, { spinMicros: 200 });
  t.after(shutdown);
  // Spinning preferred: a call alone reads its response in a synchronous spin (all but one in
  // 4, which sleeps, as the spinner learns), and the stream brings the part past the spin;
  // calls sent together spin the event loop.
  const spin = (req) => { spinner.choice(requestKind(req)).prefer = true; return req; };
  for (let i = 0; i < 40; i++) { // of one kind
    const req = spin(Uint8Array.from({ length: 64 }, (_, j) => (j ? i + j : 3) & 0xff)); // op 3
    const resp = await transport(req);
    assert.equal(resp[0], 0);
    assert.deepEqual(Array.from(resp.subarray(1)), Array.from(req), `call ${i}`);
  }
  assert.ok(spunReads() > 0, 'no response was read spinning');
  const many = await Promise.all(Array.from({ length: 10 }, (_, i) => transport(spin(Uint8Array.of(i, i)))));
  many.forEach((r, i) => assert.deepEqual(Array.from(r), [0, i, i]));
  assert.ok(spinner.turns > 0, 'the event loop spun');
});

test('native: calls answered at once, one after another in one turn, keep their own responses', async (t) => {
  const file = stub(t, `${respond}
const onFrame = (f, done) => { fs.writeSync(1, respond(f)); done(); };`);
  const { transport, shutdown, spinner, spunReads } = startNative(file, { spinMicros: 100000 });
  t.after(shutdown);
  const kind = requestKind(Uint8Array.of(5, 0, 0));
  spinner.choice(kind).prefer = true;
  for (let round = 0; round < 20; round++) {
    // Each call may be answered before the next is sent, its response still unread by its
    // caller: the next must not overwrite it.
    const calls = Array.from({ length: 4 }, (_, i) => transport(Uint8Array.of(5, round, i)));
    (await Promise.all(calls)).forEach((r, i) => assert.deepEqual(Array.from(r), [0, 5, round, i], `round ${round}, call ${i}`));
  }
  assert.ok(spunReads() > 0, 'no response was read spinning');
});

test('native: frames larger than the pipe go out whole, with and without headroom', async (t) => {
  const file = stub(t, `${respond}
const onFrame = (f, done) => { process.stdout.write(respond(f), done); };`);
  const { transport, shutdown } = startNative(file);
  t.after(shutdown);
  const big = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i ? i * seed : 9) & 0xff);
  const room = new Uint8Array(8 + 300000);
  room.set(big(300000, 7), 8);
  const reqs = [[big(300000, 3), 0], [room.subarray(8), 8], [big(70000, 5), 0]];
  const ok = (req) => { const r = new Uint8Array(1 + req.length); r.set(req, 1); return r; };
  for (const [req, headroom] of reqs) { // one at a time, then all together
    assert.ok(Buffer.from(await transport(req, headroom)).equals(ok(req)));
  }
  const all = await Promise.all(reqs.map(([req, headroom]) => transport(req, headroom)));
  all.forEach((r, i) => assert.ok(Buffer.from(r).equals(ok(reqs[i][0])), `call ${i}`));
});

test('native: the engine dying mid-spin rejects the call with its exit status', async (t) => {
  const file = stub(t, `const onFrame = () => process.exit(3);`);
  for (const prefer of [false, true]) { // learning (it sleeps first) and spinning at once
    const { transport, spinner } = startNative(file, { spinMicros: 100000 }); // spins up to 100 ms
    spinner.choice(requestKind(Uint8Array.of(1))).prefer = prefer;
    const t0 = performance.now();
    await assert.rejects(transport(Uint8Array.of(1)), /native engine exited \(code 3\)/);
    await assert.rejects(transport(Uint8Array.of(1)), /native engine exited \(code 3\)/);
    assert.ok(performance.now() - t0 < 5000, 'no hang');
    await new Promise((r) => setImmediate(r));
    assert.equal(spinner.active, false, 'the spin stopped');
  }
});

test('native: Spinner spins while a call is pending, and only where spinning is faster', async () => {
  let waiting = true;
  const s = new Spinner(1e6, () => waiting); // up to 1 s
  s.choice(0).prefer = true;
  assert.equal(s.start(true), true, 'spins when it prefers to');
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r)); // three turns of the loop
  assert.ok(s.active && s.turns >= 2, `spinning while a call is pending (${s.turns} turns)`);
  waiting = false;
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(s.active, false, 'stopped when nothing is pending');

  // Round trips of 20 µs spun and 200 µs not: it starts spinning, once it has 16 of each (it
  // spins on one call in 4 until then), then goes the other way on one call in 16. The other
  // way round, it never spins but to learn, ever more rarely as spinning stays 10 times slower
  // (intervals doubling up to 1024), and then for at most 1.5 times the calls that sleep.
  // Within the hysteresis, it stays as it is, trying the other way on one call in 16.
  for (const [spun, slept, want, backoff, want1] of [[0.02, 0.2, true, false, false], [0.2, 0.02, false, true, true], [0.02, 0.022, false, false, false]]) {
    const c = new Spinner(50, () => false);
    const ways = [];
    for (let i = 1; i <= 4096; i++) {
      const way = c.start(true);
      ways.push(way);
      c.record(performance.now() - (way ? spun : slept), way);
      // Another kind of call, ten times as long either way, is judged on its own.
      const other = c.start(true, 1);
      c.record(performance.now() - (other ? 10 * slept : 10 * spun), other, 1);
    }
    assert.equal(c.choice(0).prefer, want, `spun ${spun} ms, slept ${slept} ms`);
    assert.equal(c.choice(1).prefer, want1, 'the other kind, judged on its own round trips');
    assert.equal(ways.slice(0, 64).filter((w) => w).length, 16, 'learning: 1 call in 4 spins');
    const other = [];
    ways.forEach((w, i) => { if (i >= 64 && w !== want) other.push(i); });
    const gaps = other.slice(1).map((x, i) => x - other[i]);
    const wantGaps = backoff ? [32, 64, 128, 256, 512, 1024, 1024] : gaps.map(() => 16);
    assert.deepEqual(gaps.slice(0, wantGaps.length), wantGaps.slice(0, gaps.length), `calls going the other way: ${other}`);
    assert.ok(gaps.length >= (backoff ? 5 : 200), `${gaps.length} calls going the other way`);
    if (!want) {
      // The spin ends at the time start() read plus its window; bracket that read by two clock
      // reads so a pause between the call and the check cannot fail the test.
      let before;
      do { before = performance.now(); } while (!c.start(true));
      const after = performance.now();
      const sl = c.choice(0).slept;
      assert.ok(sl >= slept && sl < slept + 0.01, `median of the calls that slept ${sl} ms, want ${slept}`);
      assert.ok(c.until - before > 0 && c.until - after <= 1.5 * sl, `a spin to learn ends ${c.until - before} ms after the call, at most 1.5 x ${sl}`);
    }
    assert.equal(c.start(false), want, 'a call sent beside others goes the preferred way');
  }
  // Once 16 spun calls found their response, the first read waits for 0.9 times the median
  // time they took, and a spin lasts at most 3 times it.
  const f = new Spinner(1e6, () => false);
  f.choice(0).prefer = true;
  for (let i = 0; i < 16; i++) f.choice(0).found(i < 9 ? 0.02 : 0.5);
  assert.ok(Math.abs(f.choice(0).wait - 0.018) < 1e-9, `first read after ${f.choice(0).wait} ms, want 0.018`);
  const before = performance.now();
  while (!f.plan(true));
  assert.ok(f.until - before <= 0.06 + (performance.now() - before), `a spin of ${f.until - before} ms, want at most 0.06`);
  const kind = (op, n) => requestKind(Uint8Array.from({ length: n }, (_, i) => (i ? 7 : op)));
  assert.equal(kind(3, 533), kind(3, 600), 'one op, sizes within a power of two: one kind');
  assert.notEqual(kind(3, 533), kind(3, 51221), 'a batch is another kind');
  assert.notEqual(kind(3, 533), kind(6, 533), 'another op is another kind');
  const off = new Spinner(0, () => true);
  assert.equal(off.start(true), false, 'spinMicros 0 never spins');
  assert.equal(off.active, false);
  assert.throws(() => startNative(process.execPath, { spinMicros: -1 }), /spinMicros = -1/);
});

test('native: the engine without spinning answers as before', async () => {
  const g = await gognn.open({ backend: 'native', spinMicros: 0 });
  const ix = await g.createIndex({ dim: 8, metric: 'l2' });
  await ix.add(clustered(100, 8, 3));
  const r = await ix.search(clustered(1, 8, 3), 3);
  assert.equal(r.ids[0], 0);
  await g.close();
});
