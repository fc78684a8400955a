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

// defaultSpinMicros is how long, by default, the engine polls for Node's next frame before
// sleeping (its -spin default too). Node does not poll by default (defaultNodeSpinMicros): on
// 2 vCPUs, quiet, single queries came 0.68x to 0.81x hnswlib-node's rate with the engine alone
// polling and 0.19x to 0.54x with both (js/bench, README), as a Node thread that polls holds
// the CPU the engine may need.
const defaultSpinMicros = 100;
const defaultNodeSpinMicros = 0;

// startNative starts the engine file and returns its transport. opts.spinMicros (default 0;
// 0 never spins) bounds how long Node polls for the engine's next frame before it sleeps:
// after sending a request alone, Node polls the engine's stdout with read(2) for up to
// spinMicros without returning to the event loop (readSpinning), and for calls sent together
// keeps its event loop polling (Spinner); opts.engineSpinMicros (default spinMicros when that
// is given, else 100) bounds how long the engine polls stdin after answering (-spin). A
// single query is mostly the two hand-offs between the processes, and a thread that sleeps
// must be woken, which is slow where an idle virtual CPU halts; polling costs CPU instead, at
// most the spin per call on each side, and only where it pays (see SpinChoice and the
// engine's spinReader).
function startNative(file, opts = {}) {
  const micros = (name, def) => {
    const v = opts[name] === undefined ? def : opts[name];
    if (!Number.isInteger(v) || v < 0 || v > 1e6) throw new Error(`gognn: ${name} = ${v}: want an integer from 0 to 1000000`);
    return v;
  };
  const spinMicros = micros('spinMicros', defaultNodeSpinMicros);
  const engineSpin = micros('engineSpinMicros', opts.spinMicros === undefined ? defaultSpinMicros : spinMicros);
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

  // received parses the engine's output, read by the stream ('data') or by the synchronous
  // path (readSpinning), in the order read: whole frames settle their calls, a partial frame waits
  // for the rest.
  const received = (d) => {
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
        p.done = true;
        if (p.alone) spinner.record(p.sent, p.spun, p.kind);
        p.resolve(body);
      }
    }
    buf = buf.subarray(off);
    chunks = buf.length ? [buf] : [];
    have = buf.length;
    if (pending.size === 0) setRef(false);
  };
  child.stdout.on('data', received);

  const spinner = new Spinner(spinMicros, () => dead === null && pending.size > 0);
  const sync = syncPipes(child);
  // transport sends req as one frame, in one write (one syscall, one wake-up of the engine):
  // its head goes in the headroom bytes before req where the caller leaves them (lib/core.js),
  // else a small request is copied behind a head and a large one written after it.
  const transport = (req, headroom = 0) => {
    if (dead) return Promise.reject(dead);
    const id = nextId++ >>> 0;
    const whole = headroom >= 8 || req.length <= 1 << 16;
    const head = headroom >= 8 ? new Uint8Array(req.buffer, req.byteOffset - 8, req.length + 8) : new Uint8Array(whole ? 8 + req.length : 8);
    putU32(head, 0, req.length + 4);
    putU32(head, 4, id);
    if (whole && headroom < 8) head.set(req, 8);
    const alone = pending.size === 0;
    const kind = requestKind(req);
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    const p = { resolve, reject, sent: performance.now(), alone, spun: spinner.plan(alone, kind), kind, done: false };
    pending.set(id, p);
    if (!whole) {
      child.stdin.cork();
      child.stdin.write(head);
      child.stdin.write(req);
      child.stdin.uncork();
    } else if (!send(head)) {
      // Not all written at once (or the engine is gone, which 'exit' reports): no waiting here.
    } else if (p.spun && alone && have === 0 && child.stdout.readableLength === 0 && pipeFd(child.stdout) >= 0) {
      // A call alone, with nothing else in flight either way, waits for its response here,
      // spinning (readSpinning); if it is not in by the end of the spin, the stream brings it.
      readSpinning(sync, pipeFd(child.stdout), p, spinner.choice(kind), spinner.until, received);
      if (p.done || dead) return promise;
    }
    if (p.spun && !p.done) spinner.run();
    setRef(true);
    return promise;
  };

  // send writes a frame with write(2) on the stdin pipe when nothing is queued in its stream,
  // which saves the stream's machinery, and reports whether it all went out so. What cannot be
  // written at once (a full pipe) goes through the stream, after the rest, and so does all of it
  // where the pipe's descriptor is not to be had (syncPipes). A write to a dead engine is left
  // to 'exit', which rejects the calls.
  const send = (frame) => {
    let off = 0;
    const fd = sync ? pipeFd(child.stdin) : -1;
    if (fd >= 0 && child.stdin.writableLength === 0) {
      try {
        while (off < frame.length) off += fs.writeSync(fd, frame, off, frame.length - off);
        return true;
      } catch (err) {
        if (err.code !== 'EAGAIN') return false;
      }
    }
    child.stdin.write(off ? frame.subarray(off) : frame);
    return false;
  };
  const shutdown = () => new Promise((resolve) => {
    if (dead) return resolve();
    child.once('exit', () => resolve());
    setRef(true);
    child.stdin.end();
  });
  // spunReads (for tests): how many reads of readSpinning found data.
  return { transport, shutdown, child, spinner, spunReads: () => (sync ? sync.reads : 0) };
}

// readSlab is the size of readSpinning's read buffers.
const readSlab = 1 << 16;

const putU32 = (b, o, v) => { b[o] = v; b[o + 1] = v >>> 8; b[o + 2] = v >>> 16; b[o + 3] = v >>> 24; };

// syncPipes returns the state of readSpinning, or null where Node does not expose the file
// descriptors of the child's pipes (Windows, or another Node): calls then always go through
// the streams.
function syncPipes(child) {
  if (process.platform === 'win32' || pipeFd(child.stdin) < 0 || pipeFd(child.stdout) < 0) return null;
  return { slab: Buffer.allocUnsafeSlow(readSlab), used: 0, reads: 0 };
}

// pipeFd returns the file descriptor of a child's stdio stream (libuv made it non-blocking),
// or -1 once the stream is closed: asked at each use, as a closed descriptor's number may be
// another file's by then.
const pipeFd = (s) => (s && s._handle && Number.isInteger(s._handle.fd) && s._handle.fd >= 0 ? s._handle.fd : -1);

// readSpinning polls the stdout pipe (fd) with read(2) until call p's response is in or
// performance.now() passes until, without returning to the event loop: no stream, promise or
// loop turn between the two processes, and no sleeping thread to wake on either side (the engine
// spins too). The caller made sure nothing else is in flight, so the pipe holds only this call's
// bytes; they go to received, the stream's own parser, so a response that is not whole by until
// is completed by the stream as usual. The end of the pipe (a dead engine) is left to the stream
// and to 'exit', which rejects the call.
//
// A read that finds no data throws (EAGAIN), which costs several times a read that finds some
// (a few µs, and more on a loaded machine), so a response is found up to that late. So it
// reads first once 0.9 times the lower quartile of the times after which the latest calls of
// its kind found data has passed (choice.wait): a quarter of the calls or so find it at the
// first read, and the quartile, of times that a first read finding data at once can only
// lower, follows the engine down as well as up. (A lower quantile, as reading late costs more
// than reading early, and slow calls from a busy spell must not hold it up.)
function readSpinning(pipes, fd, p, choice, until, received) {
  const firstRead = Math.min(p.sent + choice.wait, until);
  while (performance.now() < firstRead);
  const limit = Error.stackTraceLimit;
  if (stackLimitWritable) Error.stackTraceLimit = 0; // cheaper errors
  let first = true;
  try {
    while (!p.done) {
      // Reads go to successive bytes of a slab, never reused: the parser may keep a partial
      // frame, and the caller its response. The first read of a call starts 3 bytes past a
      // multiple of 4, where a search response's arrays fall aligned (after u32 length, u32
      // id, a status byte and two u32s), and are copied out (lib/core.js) the cheap way.
      if (pipes.slab.length - pipes.used < readSlab >> 4) {
        pipes.slab = Buffer.allocUnsafeSlow(readSlab);
        pipes.used = 0;
      }
      const at = first ? pipes.used + ((3 - pipes.used) & 3) : pipes.used;
      const t = performance.now();
      let n;
      try {
        n = fs.readSync(fd, pipes.slab, at, pipes.slab.length - at, null);
      } catch (err) {
        if (err.code !== 'EAGAIN' || performance.now() > until) return;
        continue;
      }
      if (n === 0) return; // end of the pipe: the stream reads it too, and 'exit' rejects p
      pipes.used = at + n;
      pipes.reads++;
      if (first) choice.found(t - p.sent);
      first = false;
      received(pipes.slab.subarray(at, at + n));
    }
  } finally {
    if (stackLimitWritable) Error.stackTraceLimit = limit;
  }
}

const stackLimitWritable = (() => {
  const d = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
  return d ? d.writable === true : Object.isExtensible(Error);
})();

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

  // plan reports whether to spin for a call of kind about to go out (alone: with no other call
  // pending), and if so sets until, the time (performance.now()) the spin ends.
  plan(alone, kind = 0) {
    if (this.maxMs <= 0) return false;
    const c = this.choice(kind);
    if (!c.spin(alone)) return false;
    // A spun call that takes longer than the calls that sleep has lost already: spin for at
    // most 1.5 times their median, and 3 times the median time after which the latest spun
    // calls found their response. (Where the two processes share a CPU, as on a loaded
    // machine, the engine may not run at all until Node stops spinning.)
    this.until = performance.now() + Math.min(this.maxMs, 1.5 * c.slept, c.findCount >= ringSize ? 3 * c.findMedian : Infinity);
    return true;
  }

  // start is called when a request of kind has gone out through the stream; alone says whether no other call is
  // pending. It returns whether it spins for the call, to give back to record.
  start(alone, kind = 0) {
    if (!this.plan(alone, kind)) return false;
    this.run();
    return true;
  }

  // run spins the event loop until the time plan set.
  run() {
    if (!this.active) {
      this.active = true;
      setImmediate(this.tick);
    }
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
    // The latest times in ms from sending a spun call to the read that found its response's
    // first bytes (readSpinning), a ring, their median, and 0.9 times their lower quartile
    // (0 until known).
    this.finds = new Float64Array(ringSize);
    this.findCount = 0;
    this.findMedian = 0;
    this.wait = 0;
  }

  // found notes the time in ms from sending a spun call to the read that found its response.
  found(ms) {
    this.finds[this.findCount++ % ringSize] = ms;
    if (this.findCount >= ringSize) {
      this.findMedian = this.median(this.finds);
      this.wait = 0.9 * this.scratch[ringSize >> 2]; // the lower quartile, sorted by median
    }
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
    if (!spun && this.count[0] >= ringSize) this.slept = this.median(this.trips[0]);
    if (this.count[0] >= ringSize && this.count[1] >= ringSize) {
      this.ratio = this.median(this.trips[1]) / this.slept;
      if (this.prefer ? this.ratio > 0.95 : this.ratio < 0.8) this.prefer = !this.prefer;
    }
  }

  median(ring) {
    this.scratch.set(ring);
    this.scratch.sort();
    return this.scratch[ringSize >> 1];
  }
}

const ringSize = 16;
const exploreEvery = 16;
const maxExploreEvery = 1024;

module.exports = { enginePath, startNative, Spinner, requestKind, defaultSpinMicros, defaultNodeSpinMicros };
