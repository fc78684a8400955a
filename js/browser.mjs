// gognn in the browser: the WebAssembly backend in a Web Worker (worker.js), with the same
// Client API as in Node. core.js is a classic script that defines globalThis.gognnCore.
import './lib/core.js';

const core = globalThis.gognnCore;
export const { Client, Index, Model } = core;

// openWorker starts the worker and returns a Client. base is the URL of this package's files
// (default: beside this module); wasm is 'full' (training included) or 'serve'.
export async function openWorker({ base = new URL('.', import.meta.url), wasm = 'full' } = {}) {
  const worker = new Worker(new URL('worker.js', base));
  const pending = new Map();
  let nextId = 1;
  let dead = null;
  const fail = (err) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const ready = new Promise((resolve, reject) => {
    worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.ready) return resolve();
      if (m.failed) { fail(new Error(m.failed)); return reject(dead); }
      const p = pending.get(m.id);
      if (p) { pending.delete(m.id); p.resolve(new Uint8Array(m.resp)); }
    };
    worker.onerror = (ev) => { fail(new Error(`gognn: the worker failed: ${ev.message}`)); reject(dead); };
  });
  worker.postMessage({ init: {
    wasmURL: new URL(wasm === 'serve' ? 'dist/gognn-serve.wasm' : 'dist/gognn.wasm', base).href,
    wasmExecURL: new URL('dist/wasm_exec.js', base).href,
  } });
  await ready;
  const transport = (req) => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    const buf = req.buffer.slice(req.byteOffset, req.byteOffset + req.byteLength);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, req: buf }, [buf]);
    });
  };
  const shutdown = async () => { worker.terminate(); fail(new Error('gognn: this client was closed')); };
  return new Client('worker', transport, shutdown);
}
