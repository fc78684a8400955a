'use strict';
// gognn: vector search that learns from feedback, and inference of GNN models trained in Go,
// from Node. One API over two backends: the native engine (a child process with the SIMD
// kernels and every core) when its binary is present (the platform package @gognn/<platform>,
// else dist/; see lib/native.js enginePath), else WebAssembly.
const path = require('node:path');
const fs = require('node:fs');
const core = require('./lib/core.js');
const { enginePath, startNative } = require('./lib/native.js');
const { startWasm, dist } = require('./lib/wasm.js');

// open starts a backend and returns its Client.
//   backend: 'auto' (native if present, else wasm), 'native' or 'wasm'
//   wasm:    'full' (dist/gognn.wasm, training included) or 'serve' (dist/gognn-serve.wasm)
//   wasmPath, enginePath: explicit files
//   lookup:  options of the engine's lookup (lib/native.js enginePath), for tests
//   spinMicros: how long the native engine and Node poll for each other's next frame before
//            sleeping (lib/native.js startNative), default 100; 0 never polls;
//            engineSpinMicros sets the engine's apart
async function open(opts = {}) {
  const backend = opts.backend || 'auto';
  if (!['auto', 'native', 'wasm'].includes(backend)) throw new Error(`gognn: backend ${JSON.stringify(backend)}: want 'auto', 'native' or 'wasm'`);
  if (backend !== 'wasm') {
    const file = opts.enginePath || enginePath(opts.lookup);
    if (file) {
      const { transport, shutdown } = startNative(file, { spinMicros: opts.spinMicros, engineSpinMicros: opts.engineSpinMicros });
      return new core.Client('native', transport, shutdown);
    }
    if (backend === 'native') throw new Error(`gognn: no native engine for ${process.platform}-${process.arch}: neither the package @gognn/${process.platform}-${process.arch} nor ${dist} has one (npm install it, build it with make js, or set GOGNN_ENGINE)`);
  }
  const flavour = opts.wasm || 'full';
  if (!['full', 'serve'].includes(flavour)) throw new Error(`gognn: wasm ${JSON.stringify(flavour)}: want 'full' or 'serve'`);
  const file = opts.wasmPath || path.join(dist, flavour === 'serve' ? 'gognn-serve.wasm' : 'gognn.wasm');
  if (!fs.existsSync(file)) throw new Error(`gognn: ${file} not found (build it with make js)`);
  const { transport, shutdown } = await startWasm(file);
  return new core.Client(flavour === 'serve' ? 'wasm-serve' : 'wasm', transport, shutdown);
}

module.exports = { open, Client: core.Client, Index: core.Index, Model: core.Model };
