// A Web Worker that runs the WebAssembly backend off the page's main thread. Start it as a
// classic worker, new Worker(new URL('gognn/worker.js', import.meta.url)), and talk to it with
// browser.mjs's openWorker. The first message is {init: {wasmURL, wasmExecURL}}; then each
// message {id, req: ArrayBuffer} gets {id, resp: ArrayBuffer} (transferred, not copied).
/* eslint-env worker */
let call = null;
const queue = [];

function answer(id, req) {
  let resp;
  try {
    resp = call(new Uint8Array(req));
    if (typeof resp === 'string') throw new Error(resp);
  } catch (err) {
    resp = new Uint8Array([1, ...new TextEncoder().encode(`gognn: ${err.message}`)]);
  }
  const buf = resp.buffer.slice(resp.byteOffset, resp.byteOffset + resp.byteLength);
  self.postMessage({ id, resp: buf }, [buf]);
}

self.onmessage = async (ev) => {
  const msg = ev.data;
  if (msg.init) {
    try {
      importScripts(msg.init.wasmExecURL);
      const go = new self.Go();
      go.argv = ['gognn', '__gognn'];
      const { instance } = await WebAssembly.instantiateStreaming(fetch(msg.init.wasmURL), go.importObject);
      go.run(instance);
      call = self.__gognn;
      self.postMessage({ ready: true });
      for (const [id, req] of queue.splice(0)) answer(id, req);
    } catch (err) {
      self.postMessage({ failed: `gognn: loading ${msg.init.wasmURL}: ${err.message}` });
    }
    return;
  }
  if (!call) queue.push([msg.id, msg.req]);
  else answer(msg.id, msg.req);
};
