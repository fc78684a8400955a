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

  // Request builds one request: an op byte and little-endian fields. Typed arrays are copied as
  // bytes (the platforms JavaScript runs on are little-endian, as the protocol is).
  class Request {
    constructor(op, size) {
      this.buf = new Uint8Array(1 + size);
      this.view = new DataView(this.buf.buffer);
      this.buf[0] = op;
      this.off = 1;
    }
    u8(v) { this.view.setUint8(this.off, v); this.off += 1; return this; }
    u32(v) { this.view.setUint32(this.off, v, true); this.off += 4; return this; }
    u64(v) { this.view.setBigUint64(this.off, BigInt(v), true); this.off += 8; return this; }
    bytes(a) {
      this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.off);
      this.off += a.byteLength;
      return this;
    }
    done() {
      if (this.off !== this.buf.length) throw new Error(`gognn: internal: request of ${this.buf.length} bytes filled to ${this.off}`);
      return this.buf;
    }
  }

  // Response reads a successful response's fields (after the status byte).
  class Response {
    constructor(b) { this.b = b; this.view = new DataView(b.buffer, b.byteOffset, b.byteLength); this.off = 1; }
    u32() { const v = this.view.getUint32(this.off, true); this.off += 4; return v; }
    // Typed arrays are copied out, so they are aligned and own their memory.
    i32s(n) { const a = new Int32Array(n); new Uint8Array(a.buffer).set(this.b.subarray(this.off, this.off + 4 * n)); this.off += 4 * n; return a; }
    f32s(n) { const a = new Float32Array(n); new Uint8Array(a.buffer).set(this.b.subarray(this.off, this.off + 4 * n)); this.off += 4 * n; return a; }
    rest() { return this.b.slice(this.off); }
    json() { return JSON.parse(new TextDecoder().decode(this.b.subarray(this.off))); }
  }

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

  function i32(a, what) {
    if (a === undefined || a === null) return new Int32Array(0);
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
    async call(op, name, req) {
      if (this.closed) throw new Error(`gognn: ${name} on a closed ${this.constructor.name.toLowerCase()}`);
      return check(await this.client.transport(req));
    }
    // close releases the backend's object; later calls throw.
    async close() {
      if (this.closed) return;
      this.closed = true;
      check(await this.client.transport(new Request(Op.close, 4).u32(this.id).done()));
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

  // Client is one backend's API. transport(req: Uint8Array): Promise<Uint8Array>; shutdown()
  // ends the backend.
  class Client {
    constructor(backend, transport, shutdown) { this.backend = backend; this.transport = transport; this.shutdown = shutdown; }

    // info: {goos, goarch, go, kernels, threads, training}.
    async info() { return check(await this.transport(new Request(Op.info, 0).done())).json(); }

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
        .u32(count(opts.candidates, 'candidates')).done()));
      return new Index(this, r.u32(), dim, learn);
    }

    // load opens an index saved by Index.save (or by Go's search.Index.SaveTo / hnsw.Index.SaveTo).
    async load(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new Error('gognn: load: bytes must be a Uint8Array');
      const r = check(await this.transport(new Request(Op.load, bytes.length).bytes(bytes).done()));
      const ix = new Index(this, r.u32(), 0, false);
      const st = await ix.stats();
      ix.dim = st.dim;
      ix.learns = st.learns;
      return ix;
    }

    // loadModel opens a model file written by Go's models.Save / models.SaveTo.
    async loadModel(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new Error('gognn: loadModel: bytes must be a Uint8Array');
      const r = check(await this.transport(new Request(Op.loadModel, bytes.length).bytes(bytes).done()));
      return new Model(this, r.u32());
    }

    // close ends the backend (the native engine's process); handles stop working.
    async close() { if (this.shutdown) await this.shutdown(); }
  }

  return { Client, Index, Model, Request, Op, Metric };
});
