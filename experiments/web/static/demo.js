// The demo's logic, shared by the page (index.html) and Node (check.js): a generated topic
// corpus, searches in gognn, simulated or clicked relevance judgements, training, and the
// held-out precision@10 after every training round.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.gognnDemo = factory();
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  function rng(seed) {
    let a = seed >>> 0;
    const next = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return { next, normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()) };
  }

  // corpus: n documents of `topics` topics; a document is its topic's direction plus a large
  // noise, so plain cosine search mixes topics and feedback has something to teach.
  function corpus({ n = 2000, dim = 32, topics = 20, noise = 1.6, seed = 1 } = {}) {
    const r = rng(seed);
    const centres = new Float32Array(topics * dim).map(() => r.normal());
    const vectors = new Float32Array(n * dim);
    const topic = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const t = i % topics;
      topic[i] = t;
      for (let j = 0; j < dim; j++) vectors[i * dim + j] = centres[t * dim + j] + noise * r.normal();
    }
    const names = ['physics', 'cooking', 'jazz', 'chess', 'rust', 'gardening', 'opera', 'cycling', 'poetry', 'finance',
      'astronomy', 'pottery', 'sailing', 'ballet', 'geology', 'surfing', 'baking', 'robotics', 'origami', 'tennis'];
    return { n, dim, topics, vectors, topic, name: (t) => names[t % names.length] };
  }

  // Demo runs rounds: a training query (a corpus document, itself excluded), its top 10, the
  // judgements (same topic = relevant), feedback, and every `trainEvery` rounds a Train and the
  // precision@10 on held-out queries.
  class Demo {
    constructor(client, c, { ef = 100, trainEvery = 10, evalQueries = 100, seed = 2 } = {}) {
      this.g = client; this.c = c; this.ef = ef; this.trainEvery = trainEvery;
      const r = rng(seed);
      this.r = r;
      const ids = Array.from({ length: c.n }, (_, i) => i);
      for (let i = ids.length - 1; i > 0; i--) { const j = Math.floor(r.next() * (i + 1)); [ids[i], ids[j]] = [ids[j], ids[i]]; }
      this.evalIds = ids.slice(0, evalQueries);
      this.trainIds = ids.slice(evalQueries);
      this.round = 0;
      this.history = [];
    }

    async init() {
      this.ix = await this.g.createIndex({ dim: this.c.dim, metric: 'cosine', seed: 1 });
      await this.ix.add(this.c.vectors);
      this.history.push({ round: 0, precision: await this.precision() });
    }

    query(id) { return this.c.vectors.subarray(id * this.c.dim, (id + 1) * this.c.dim); }

    async search(id) {
      const r = await this.ix.search(this.query(id), 10, { ef: this.ef, exclude: [id] });
      return Array.from(r.ids).filter((x) => x >= 0);
    }

    // precision is the mean precision@10 over the held-out queries, in one batch call.
    async precision() {
      const dim = this.c.dim;
      let hits = 0;
      for (const id of this.evalIds) {
        const shown = await this.search(id);
        for (const s of shown) if (this.c.topic[s] === this.c.topic[id]) hits++;
      }
      return hits / (10 * this.evalIds.length);
    }

    // judge records relevance for one query's shown results (flags: true = relevant).
    async judge(id, shown, flags) {
      await this.ix.feedback(this.query(id), Int32Array.from(shown), flags, { ef: this.ef });
      this.round++;
      if (this.round % this.trainEvery === 0) {
        await this.ix.train();
        this.history.push({ round: this.round, precision: await this.precision() });
      }
    }

    // simulate runs one round with the topic as the judge.
    async simulate() {
      const id = this.trainIds[Math.floor(this.r.next() * this.trainIds.length)];
      const shown = await this.search(id);
      await this.judge(id, shown, shown.map((s) => this.c.topic[s] === this.c.topic[id]));
    }
  }

  return { corpus, Demo, rng };
});
