'use strict';
// Shared by the tests: the backends to run against and seeded data.
const fs = require('node:fs');
const path = require('node:path');
const { enginePath } = require('../lib/native.js');
const { dist } = require('../lib/wasm.js');

// backends lists what is built; a missing one is a failure, not a skip, unless
// GOGNN_JS_BACKENDS names the ones to test.
function backends() {
  const want = (process.env.GOGNN_JS_BACKENDS || 'native,wasm,wasm-serve').split(',');
  return want.map((name) => {
    const present = name === 'native' ? !!enginePath() : fs.existsSync(path.join(dist, name === 'wasm-serve' ? 'gognn-serve.wasm' : 'gognn.wasm'));
    return { name, present, opts: name === 'native' ? { backend: 'native' } : { backend: 'wasm', wasm: name === 'wasm-serve' ? 'serve' : 'full' } };
  });
}

// rng is a seeded generator (mulberry32) with a normal draw.
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, normal };
}

// clustered returns n * dim values around `clusters` centres (spread 4, noise sigma).
function clustered(n, dim, seed, clusters = 20, sigma = 0.3) {
  const r = rng(seed);
  const centres = new Float32Array(clusters * dim).map(() => 4 * r.normal());
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r.next() * clusters);
    for (let j = 0; j < dim; j++) out[i * dim + j] = centres[c * dim + j] + sigma * r.normal();
  }
  return out;
}

const fixtures = path.join(__dirname, 'fixtures');

function readTyped(name, Type) {
  const b = fs.readFileSync(path.join(fixtures, name));
  const a = new Type(b.byteLength / Type.BYTES_PER_ELEMENT);
  new Uint8Array(a.buffer).set(b);
  return a;
}

module.exports = { backends, rng, clustered, fixtures, readTyped };
