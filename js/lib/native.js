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

// defaultSpinMicros is how long, by default, each side polls for the other's next frame before
// sleeping (the engine's -spin default too).
const defaultSpinMicros = 100;

// startNative starts the engine file and returns its transport. opts.spinMicros (default 100;
// 0 never spins) bounds how long each side polls for the other's next frame before it sleeps:
// after sending a request, Node keeps its event loop polling (setImmediate, so the loop's
// epoll_wait does not sleep) for up to spinMicros; after answering, the engine polls stdin
// (-spin). A single query is mostly the two hand-offs between the processes, and a thread
// that sleeps must be woken, which is slow where an idle virtual CPU halts; polling costs CPU
// instead, at most spinMicros per call on each side, and only where it pays (see Spinner and
// the engine's spinReader).
// opts.engineSpinMicros sets the engine's side apart (default spinMicros).
function startNative(file, opts = {}) {
  const micros = (name, def) => {
    const v = opts[name] === undefined ? def : opts[name];
    if (!Number.isInteger(v) || v < 0 || v > 1e6) throw new Error(`gognn: ${name} = ${v}: want an integer from 0 to 1000000`);
    return v;
  };
  const spinMicros = micros('spinMicros', defaultSpinMicros);
  const engineSpin = micros('engineSpinMicros', spinMicros);
  const child = spawn(file, [`-spin=${engineSpin}us`], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
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
        if (p.alone) spinner.record(p.sent, p.spun, p.kind);
        p.resolve(body);
      }
    }
    buf = buf.subarray(off);
    chunks = buf.length ? [buf] : [];
    have = buf.length;
    if (pending.size === 0) setRef(false);
  });

  const spinner = new Spinner(spinMicros, () => dead === null && pending.size > 0);
  const transport = (req) => {
    if (dead) return Promise.reject(dead);
    const id = nextId++ >>> 0;
    // One write (one syscall, one wake-up of the engine) per request; a large body is not copied.
    const small = req.length <= 1 << 16;
    const head = Buffer.allocUnsafe(small ? 8 + req.length : 8);
    head.writeUInt32LE(req.length + 4, 0);
    head.writeUInt32LE(id, 4);
    if (small) head.set(req, 8);
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, sent: performance.now(), alone: pending.size === 0, spun: false, kind: requestKind(req) };
      pending.set(id, p);
      setRef(true);
      if (small) {
        child.stdin.write(head);
      } else {
        child.stdin.cork();
        child.stdin.write(head);
        child.stdin.write(req);
        child.stdin.uncork();
      }
      p.spun = spinner.start(p.alone, p.kind);
    });
  };
  const shutdown = () => new Promise((resolve) => {
    if (dead) return resolve();
    child.once('exit', () => resolve());
    setRef(true);
    child.stdin.end();
  });
  return { transport, shutdown, child, spinner };
}

// Spinner keeps Node's event loop from sleeping while a response is due soon: from start()
// until waiting() is false or maxMicros have passed, a chain of setImmediate callbacks makes
// each turn of the loop poll for I/O without blocking, so a response is read as soon as it
// arrives, with no wake-up. Other callbacks, timers and I/O run meanwhile as usual; the cost is
// CPU, at most maxMicros per call. Whether to spin for a call is a SpinChoice, one per kind of
// call (requestKind), so that single searches are not judged by batches.
class Spinner {
  constructor(maxMicros, waiting) {
    this.maxMs = maxMicros / 1000;
    this.waiting = waiting;
    this.choices = new Map();
    this.until = 0;
    this.active = false;
    this.turns = 0; // loop turns spun, for tests
    this.tick = () => {
      if (!this.waiting() || performance.now() > this.until) {
        this.active = false;
        return;
      }
      this.turns++;
      setImmediate(this.tick);
    };
  }

  choice(kind) {
    let c = this.choices.get(kind);
    if (!c) this.choices.set(kind, (c = new SpinChoice()));
    return c;
  }

  // start is called when a request of kind has gone out; alone says whether no other call is
  // pending. It returns whether it spins for the call, to give back to record.
  start(alone, kind = 0) {
    if (this.maxMs <= 0) return false;
    const c = this.choice(kind);
    if (!c.spin(alone)) return false;
    // A spun call that takes longer than the calls that sleep has lost already: while sleeping
    // is preferred, spin for at most 1.5 times their median.
    this.until = performance.now() + (c.prefer ? this.maxMs : Math.min(this.maxMs, 1.5 * c.slept));
    if (!this.active) {
      this.active = true;
      setImmediate(this.tick);
    }
    return true;
  }

  // record notes the round trip of a call of kind sent alone at `sent` (performance.now()),
  // spun or not.
  record(sent, spun, kind = 0) { this.choice(kind).record(performance.now() - sent, spun); }
}

// requestKind sorts requests for the spinner: by op and by size, in powers of two.
const requestKind = (req) => (req.length ? req[0] : 255) * 64 + (32 - Math.clz32(req.length));

// SpinChoice decides whether to spin for one kind of call. Spinning pays when the engine runs
// on another CPU, and costs dearly when the two share one: the engine then waits for the spin
// to end (Node cannot yield its CPU), as it does on a loaded machine, where the kernel puts the
// two together. So it measures: of the calls sent alone (nothing else pending), one in
// exploreEvery (one in 4 until both ways have ringSize round trips) goes the other way than
// the one preferred; it starts spinning when the median round trip of the latest spun calls is
// below 0.8 times that of the latest calls that slept, and stops when it is above 0.95 times
// (the gap keeps noise from flipping it). While it sleeps, a call spun to learn spins for at
// most 1.5 times the median round trip of the calls that slept (Spinner.start), and while
// spinning keeps measuring more than twice as slow, each call spun to learn doubles the
// interval to the next, up to one call in maxExploreEvery (a spun call on a shared CPU costs
// its neighbours too: the kernel may move one of the two processes).
class SpinChoice {
  constructor() {
    // The latest round trips in ms of calls sent alone, spun ([1]) and not ([0]): rings.
    this.trips = [new Float64Array(ringSize), new Float64Array(ringSize)];
    this.count = [0, 0];
    this.scratch = new Float64Array(ringSize);
    this.prefer = false;
    this.slept = Infinity; // median round trip of the calls that slept, once known
    this.ratio = NaN; // median spun round trip / median slept, once both are known
    this.calls = 0; // alone calls since the last that went the other way
    this.every = exploreEvery; // one alone call in every goes the other way
  }

  // spin reports whether to spin for the next call.
  spin(alone) {
    if (!alone) return this.prefer;
    const learning = this.count[0] < ringSize || this.count[1] < ringSize;
    if (++this.calls < (learning ? 4 : this.every)) return this.prefer;
    this.calls = 0;
    // While spinning keeps measuring more than twice as slow, try it ever more rarely.
    if (!learning) this.every = !this.prefer && this.ratio > 2 ? Math.min(2 * this.every, maxExploreEvery) : exploreEvery;
    return !this.prefer;
  }

  // record notes a round trip in ms of a call sent alone, spun or not.
  record(ms, spun) {
    const m = spun ? 1 : 0;
    this.trips[m][this.count[m]++ % ringSize] = ms;
    // The slept median changes only with a call that slept.
    if (!spun && this.count[0] >= ringSize) this.slept = this.median(0);
    if (this.count[0] >= ringSize && this.count[1] >= ringSize) {
      this.ratio = this.median(1) / this.slept;
      if (this.prefer ? this.ratio > 0.95 : this.ratio < 0.8) this.prefer = !this.prefer;
    }
  }

  median(m) {
    this.scratch.set(this.trips[m]);
    this.scratch.sort();
    return this.scratch[ringSize >> 1];
  }
}

const ringSize = 16;
const exploreEvery = 16;
const maxExploreEvery = 1024;

module.exports = { enginePath, startNative, Spinner, requestKind, defaultSpinMicros };
