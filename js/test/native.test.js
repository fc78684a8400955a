'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const gognn = require('../index.js');
const { startNative, enginePath } = require('../lib/native.js');
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
