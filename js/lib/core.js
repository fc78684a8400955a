// The backend-independent half of the package: the engine protocol (package engine of the Go
// module) and the handle-based API over any transport, a function from a request (Uint8Array)
// to a Promise of the response. Loaded as CommonJS in Node and as a classic script (globalThis
// .gognnCore) in browsers and workers.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.gognnCore = factory();
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  const Op = {
    info: 0, createIndex: 1, add: 2, search: 3, feedback: 4, train: 5, stats: 6,
    save: 7, load: 8, close: 9, loadModel: 10, embed: 11,
  };
  const Metric = { l2: 0, cosine: 1, ip: 2 };

  // Requests are cut from shared slabs rather than given an ArrayBuffer each: one per call costs
  // more in allocation and garbage collection than a small call's work. A request's bytes are
  // its own (a transport may keep them, as a stream write does), and headroom bytes before them
  // in their buffer are free, for a transport's frame head (see Client).
  const headroom = 8;
  const slabBytes = 1 << 16;
  let slab = null;
  let slabUsed = slabBytes;
  function take(n) {
    if (n > slabBytes >> 2) return new Uint8Array(n);
    if (slabUsed + n > slabBytes) {
      slab = new ArrayBuffer(slabBytes);
      slabUsed = 0;
    }
    const a = new Uint8Array(slab, slabUsed, n);
    slabUsed += (n + 7) & ~7;
    return a;
  }

  // Request builds one request: an op byte and little-endian fields. Typed arrays are copied as
  // bytes (the platforms JavaScript runs on are little-endian, as the protocol is).
  class Request {
    constructor(op, size) {
      this.buf = take(headroom + 1 + size);
      this.buf[headroom] = op;
      this.off = headroom + 1;
    }
    u8(v) { this.buf[this.off++] = v; return this; }
    u32(v) {
      const b = this.buf, o = this.off;
      b[o] = v; b[o + 1] = v >>> 8; b[o + 2] = v >>> 16; b[o + 3] = v >>> 24;
      this.off = o + 4;
      return this;
    }
    u64(v) {
      new DataView(this.buf.buffer, this.buf.byteOffset).setBigUint64(this.off, BigInt(v), true);
      this.off += 8;
      return this;
    }
    bytes(a) {
      this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.off);
      this.off += a.byteLength;
      return this;
    }
    done() {
      if (this.off !== this.buf.length) throw new Error(`gognn: internal: request of ${this.buf.length - headroom} bytes filled to ${this.off - headroom}`);
      return this.buf.subarray(headroom);
    }
  }

  // Response reads a successful response's fields (after the status byte).
  class Response {
    constructor(b) { this.b = b; this.off = 1; }
    u32() {
      const b = this.b, o = this.off;
      this.off = o + 4;
      return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
    }
    // Typed arrays are copied out, so they are aligned and own their memory.
    i32s(n) { return this.array(Int32Array, n); }
    f32s(n) { return this.array(Float32Array, n); }
    array(T, n) {
      const start = this.b.byteOffset + this.off;
      this.off += 4 * n;
      if (start % 4 === 0) return new T(this.b.buffer, start, n).slice();
      // Unaligned: by way of an aligned scratch buffer, which spares the result an
      // ArrayBuffer of its own where the engine keeps small arrays in its heap.
      if (scratch.byteLength < 4 * n) scratch = new ArrayBuffer(4 * n);
      new Uint8Array(scratch, 0, 4 * n).set(this.b.subarray(this.off - 4 * n, this.off));
      return new T(scratch, 0, n).slice();
    }
    rest() { return this.b.slice(this.off); }
    json() { return JSON.parse(new TextDecoder().decode(this.b.subarray(this.off))); }
  }
  let scratch = new ArrayBuffer(1 << 10);

  function check(resp) {
    if (!(resp instanceof Uint8Array) || resp.length === 0) throw new Error('gognn: empty response from the backend');
    if (resp[0] !== 0) throw new Error(new TextDecoder().decode(resp.subarray(1)));
    return new Response(resp);
  }

  function f32(a, what) {
    if (!(a instanceof Float32Array)) {
      throw new Error(`gognn: ${what} must be a Float32Array, got ${a === null ? 'null' : a && a.constructor ? a.constructor.name : typeof a}`);
    }
    return a;
  }

  const noInts = new Int32Array(0);

  function i32(a, what) {
    if (a === undefined || a === null) return noInts;
    if (a instanceof Int32Array) return a;
    if (Array.isArray(a) && a.every(Number.isInteger)) return Int32Array.from(a);
    throw new Error(`gognn: ${what} must be an Int32Array (or an array of integers)`);
  }

  function count(v, what, min = 0) {
    if (v === undefined) return 0;
    if (!Number.isInteger(v) || v < min || v > 0x7fffffff) throw new Error(`gognn: ${what} = ${v}: want an integer >= ${min}`);
    return v;
  }

  // Handle is what every object the backend holds is on this side: a number and its client.
  class Handle {
    constructor(client, id) { this.client = client; this.id = id; this.closed = false; }
    // call sends req and returns the promise of its checked response.
    call(op, name, req) {
      if (this.closed) throw new Error(`gognn: ${name} on a closed ${this.constructor.name.toLowerCase()}`);
      return this.client.transport(req, headroom).then(check);
    }
    // close releases the backend's object; later calls throw.
    async close() {
      if (this.closed) return;
      this.closed = true;
      check(await this.client.transport(new Request(Op.close, 4).u32(this.id).done(), headroom));
    }
  }

  class Index extends Handle {
    constructor(client, id, dim, learns) { super(client, id); this.dim = dim; this.learns = learns; }

    vectors(v, what) {
      f32(v, what);
      if (v.length === 0 || v.length % this.dim !== 0) {
        throw new Error(`gognn: ${what}: ${v.length} values are not a whole number of vectors of dimension ${this.dim}`);
      }
      return v;
    }

    // add appends vectors (a Float32Array of n * dim values) and returns their ids.
    async add(vectors) {
      this.vectors(vectors, 'add: vectors');
      const r = await this.call(Op.add, 'add', new Request(Op.add, 8 + vectors.byteLength)
        .u32(this.id).u32(vectors.length).bytes(vectors).done());
      return r.i32s(vectors.length / this.dim);
    }

    // search returns the k nearest of each query (a Float32Array of nq * dim values): ids
    // (Int32Array nq * k, -1 where fewer were found) and distances (Float32Array, smaller is
    // closer). ef is the candidate list (0: the index's default); exclude lists ids never returned.
    async search(queries, k, opts = {}) {
      this.vectors(queries, 'search: queries');
      count(k, 'k', 1);
      const ef = count(opts.ef, 'ef');
      const ex = i32(opts.exclude, 'exclude');
      const r = await this.call(Op.search, 'search', new Request(Op.search, 20 + ex.byteLength + queries.byteLength)
        .u32(this.id).u32(k).u32(ef).u32(ex.length).bytes(ex).u32(queries.length).bytes(queries).done());
      const nq = r.u32(), kk = r.u32();
      return { ids: r.i32s(nq * kk), distances: r.f32s(nq * kk) };
    }

    // feedback records which of the results shown for query were relevant (one flag each); ef
    // must be the one the search used. Train learns from it.
    async feedback(query, shown, relevant, opts = {}) {
      this.vectors(query, 'feedback: query');
      if (query.length !== this.dim) throw new Error(`gognn: feedback: one query of dimension ${this.dim}, got ${query.length} values`);
      const ids = i32(shown, 'feedback: shown');
      if (!relevant || relevant.length !== ids.length) throw new Error(`gognn: feedback: ${ids.length} shown ids need as many relevant flags, got ${relevant ? relevant.length : 0}`);
      const rel = Uint8Array.from(relevant, (x) => (x ? 1 : 0));
      const ef = count(opts.ef, 'ef');
      await this.call(Op.feedback, 'feedback', new Request(Op.feedback, 16 + ids.byteLength + rel.length + query.byteLength)
        .u32(this.id).u32(ef).u32(ids.length).bytes(ids).bytes(rel).u32(query.length).bytes(query).done());
    }

    // train learns from the feedback so far: {steps, pairs, loss, newEdges, refreshed}.
    async train() { return (await this.call(Op.train, 'train', new Request(Op.train, 4).u32(this.id).done())).json(); }

    // stats describes the index and the feedback it holds.
    async stats() { return (await this.call(Op.stats, 'stats', new Request(Op.stats, 4).u32(this.id).done())).json(); }

    // save returns the index as bytes, for Client.load (in any backend, or Go's search.LoadFrom).
    async save() { return (await this.call(Op.save, 'save', new Request(Op.save, 4).u32(this.id).done())).rest(); }
  }

  class Model extends Handle {
    constructor(client, id) { super(client, id); }

    // embed runs the model over a graph in CSR by destination (rowPtr Int32Array of n+1, colIdx
    // Int32Array of the edges' sources) with features (Float32Array n * numFeatures) and returns
    // {rows, cols, data} with data a Float32Array of rows * cols outputs.
    async embed({ rowPtr, colIdx, features }) {
      const rp = i32(rowPtr, 'embed: rowPtr');
      const ci = i32(colIdx, 'embed: colIdx');
      f32(features, 'embed: features');
      const n = rp.length - 1;
      if (n < 1) throw new Error('gognn: embed: rowPtr needs n+1 entries for n >= 1 nodes');
      if (features.length % n !== 0) throw new Error(`gognn: embed: ${features.length} feature values are not a whole number per node for ${n} nodes`);
      const r = await this.call(Op.embed, 'embed', new Request(Op.embed, 16 + rp.byteLength + ci.byteLength + features.byteLength)
        .u32(this.id).u32(n).u32(ci.length).u32(features.length / n).bytes(rp).bytes(ci).bytes(features).done());
      const rows = r.u32(), cols = r.u32();
      return { rows, cols, data: r.f32s(rows * cols) };
    }
  }

  // Client is one backend's API. transport(req: Uint8Array, headroom: number):
  // Promise<Uint8Array>, where the headroom bytes before req in its buffer are the transport's
  // to overwrite (0 when not given); shutdown() ends the backend.
  class Client {
    constructor(backend, transport, shutdown) { this.backend = backend; this.transport = transport; this.shutdown = shutdown; }

    // info: {goos, goarch, go, kernels, threads, training}.
    async info() { return check(await this.transport(new Request(Op.info, 0).done(), headroom)).json(); }

    // createIndex({dim, metric = 'cosine', M = 16, efConstruction = 200, seed = 0, learn, candidates}).
    // An index that learns (the default for cosine) re-ranks with the GNN and takes feedback.
    async createIndex(opts = {}) {
      const dim = count(opts.dim, 'dim', 1);
      const metric = opts.metric === undefined ? 'cosine' : opts.metric;
      if (!(metric in Metric)) throw new Error(`gognn: metric ${JSON.stringify(metric)}: want 'cosine', 'l2' or 'ip'`);
      const learn = opts.learn === undefined ? metric === 'cosine' : !!opts.learn;
      const seed = opts.seed === undefined ? 0 : opts.seed;
      if (!(typeof seed === 'bigint' || (Number.isInteger(seed) && seed >= 0))) throw new Error(`gognn: seed = ${seed}: want a non-negative integer`);
      const r = check(await this.transport(new Request(Op.createIndex, 26).u32(dim).u8(Metric[metric]).u8(learn ? 1 : 0)
        .u32(count(opts.M, 'M')).u32(count(opts.efConstruction, 'efConstruction')).u64(seed)
        .u32(count(opts.candidates, 'candidates')).done(), headroom));
      return new Index(this, r.u32(), dim, learn);
    }

    // load opens an index saved by Index.save (or by Go's search.Index.SaveTo / hnsw.Index.SaveTo).
    async load(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new Error('gognn: load: bytes must be a Uint8Array');
      const r = check(await this.transport(new Request(Op.load, bytes.length).bytes(bytes).done(), headroom));
      const ix = new Index(this, r.u32(), 0, false);
      const st = await ix.stats();
      ix.dim = st.dim;
      ix.learns = st.learns;
      return ix;
    }

    // loadModel opens a model file written by Go's models.Save / models.SaveTo.
    async loadModel(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new Error('gognn: loadModel: bytes must be a Uint8Array');
      const r = check(await this.transport(new Request(Op.loadModel, bytes.length).bytes(bytes).done(), headroom));
      return new Model(this, r.u32());
    }

    // close ends the backend (the native engine's process); handles stop working.
    async close() { if (this.shutdown) await this.shutdown(); }
  }

  return { Client, Index, Model, Request, Op, Metric };
});
