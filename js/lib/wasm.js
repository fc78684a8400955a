'use strict';
// The WebAssembly backend in Node: cmd/gognn-wasm built for GOOS=js GOARCH=wasm, run by Go's
// wasm_exec.js in this process. Calls are synchronous underneath; they return Promises so the
// API is the same as the native engine's.
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
let serial = 0;

async function startWasm(file) {
  if (!globalThis.Go) require(path.join(dist, 'wasm_exec.js'));
  const go = new globalThis.Go();
  const name = `__gognn_${process.pid}_${serial++}`;
  go.argv = ['gognn', name];
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), go.importObject);
  let exited = null;
  go.run(instance).then(
    () => { exited = new Error('gognn: the wasm program exited'); },
    (err) => { exited = new Error(`gognn: the wasm program failed: ${err.message}`); });
  const fn = globalThis[name];
  if (typeof fn !== 'function') throw new Error(`gognn: ${file} did not register its entry point (is it cmd/gognn-wasm?)`);
  const transport = async (req) => {
    if (exited) throw exited;
    const resp = fn(req);
    if (typeof resp === 'string') throw new Error(resp);
    return resp;
  };
  const shutdown = async () => {
    delete globalThis[name];
    exited = new Error('gognn: this client was closed');
  };
  return { transport, shutdown };
}

module.exports = { startWasm, dist };
