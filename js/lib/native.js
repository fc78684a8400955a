'use strict';
// The native backend: the engine (cmd/gognn-engine) as one long-lived child process speaking
// length-prefixed frames over stdio, as esbuild's service does. A frame is u32 length (of what
// follows), u32 request id, body; responses carry their request's id. If the process dies,
// every pending call is rejected with the exit status and the tail of its stderr, and later
// calls reject at once: a dead engine is an error, never a hang.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const goArch = { x64: 'amd64', arm64: 'arm64', ia32: '386' };

// enginePath returns the engine binary for this platform, or null: $GOGNN_ENGINE, else
// dist/gognn-engine-<platform>-<arch> beside this package.
function enginePath() {
  if (process.env.GOGNN_ENGINE) return process.env.GOGNN_ENGINE;
  const p = path.join(__dirname, '..', 'dist', `gognn-engine-${process.platform}-${process.arch}${process.platform === 'win32' ? '.exe' : ''}`);
  return fs.existsSync(p) && goArch[process.arch] ? p : null;
}

function startNative(file) {
  const child = spawn(file, [], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  const pending = new Map();
  let nextId = 1;
  let dead = null;
  let stderr = '';
  let chunks = [];
  let have = 0;
  let referenced = true;

  // The child keeps Node's event loop alive only while calls are pending.
  const setRef = (on) => {
    if (on === referenced) return;
    referenced = on;
    for (const s of [child, child.stdin, child.stdout, child.stderr]) {
      if (s && typeof s.ref === 'function') (on ? s.ref() : s.unref());
    }
  };
  setRef(false);

  const fail = (err) => {
    if (dead) return;
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    setRef(false);
  };
  child.on('error', (err) => fail(new Error(`gognn: native engine ${file}: ${err.message}`)));
  child.on('exit', (code, signal) => {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    fail(new Error(`gognn: the native engine exited (${signal ? 'signal ' + signal : 'code ' + code})${tail ? ': ' + tail : ''}`));
  });
  child.stdin.on('error', () => {}); // a write to a dead engine: 'exit' reports it
  child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-4096); });
  child.stdout.on('data', (d) => {
    chunks.push(d);
    have += d.length;
    if (have < 8) return;
    let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
    let off = 0;
    while (buf.length - off >= 4) {
      const n = buf.readUInt32LE(off);
      if (buf.length - off - 4 < n) break;
      const id = buf.readUInt32LE(off + 4);
      const body = new Uint8Array(buf.buffer, buf.byteOffset + off + 8, n - 4);
      off += 4 + n;
      const p = pending.get(id);
      if (p) {
        pending.delete(id);
        p.resolve(body);
      }
    }
    buf = buf.subarray(off);
    chunks = buf.length ? [buf] : [];
    have = buf.length;
    if (pending.size === 0) setRef(false);
  });

  const transport = (req) => {
    if (dead) return Promise.reject(dead);
    const id = nextId++ >>> 0;
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(req.length + 4, 0);
    head.writeUInt32LE(id, 4);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      setRef(true);
      child.stdin.write(head);
      child.stdin.write(req);
    });
  };
  const shutdown = () => new Promise((resolve) => {
    if (dead) return resolve();
    child.once('exit', () => resolve());
    setRef(true);
    child.stdin.end();
  });
  return { transport, shutdown, child };
}

module.exports = { enginePath, startNative };
