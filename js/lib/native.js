'use strict';
// The native backend: the engine (cmd/gognn-engine) as one long-lived child process speaking
// length-prefixed frames over stdio, as esbuild's service does. A frame is u32 length (of what
// follows), u32 request id, body; responses carry their request's id. If the process dies,
// every pending call is rejected with the exit status and the tail of its stderr, and later
// calls reject at once: a dead engine is an error, never a hang.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { platforms, packageName, binaryName } = require('./platforms.js');

// enginePath returns the native engine for this platform, or null when there is none (and the
// caller falls back to wasm). It looks, in order:
//  1. at $GOGNN_ENGINE, a path set by hand (it must exist);
//  2. in the platform package, e.g. @gognn/linux-x64, which npm installs as an optional
//     dependency of this package on the one platform it matches (resolved from this package's
//     folder, or from opts.paths); its version must be this package's;
//  3. in dist/ beside this package: dist/gognn-engine-<platform>-<arch>, what make js builds.
// opts (for tests): env, platform, arch, paths (folders to resolve the platform package
// from), dist (the folder of step 3).
function enginePath(opts = {}) {
  const env = opts.env || process.env;
  const key = `${opts.platform || process.platform}-${opts.arch || process.arch}`;
  if (env.GOGNN_ENGINE) {
    if (!fs.existsSync(env.GOGNN_ENGINE)) throw new Error(`gognn: GOGNN_ENGINE=${env.GOGNN_ENGINE} does not exist; unset it to use the installed engine`);
    return env.GOGNN_ENGINE;
  }
  if (platforms[key]) {
    const pkg = platformPackage(key, opts.paths);
    if (pkg) return pkg;
  }
  const dist = opts.dist || path.join(__dirname, '..', 'dist');
  const p = path.join(dist, `gognn-engine-${key}${key.startsWith('win32-') ? '.exe' : ''}`);
  return fs.existsSync(p) ? p : null;
}

// platformPackage returns the engine in the installed platform package of key, or null when
// it is not installed. An installed package of another version than this one is an error
// (as esbuild reports it): the protocol may differ.
function platformPackage(key, paths) {
  const name = packageName(key);
  let manifest;
  try {
    manifest = require.resolve(`${name}/package.json`, paths ? { paths } : undefined);
  } catch {
    return null;
  }
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  const want = require('../package.json').version;
  if (version !== want) {
    throw new Error(`gognn: ${name} ${version} is installed beside gognn ${want}; install the same version of both (npm install gognn@${want}), or set GOGNN_ENGINE`);
  }
  const bin = path.join(path.dirname(manifest), 'bin', binaryName(key));
  if (!fs.existsSync(bin)) throw new Error(`gognn: ${name} has no ${bin}; reinstall it`);
  return bin;
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
