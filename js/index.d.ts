// Type declarations of the gognn package (index.js, index.mjs; browser.mjs has the same Client).

export type Metric = 'cosine' | 'l2' | 'ip';

export interface OpenOptions {
  /** 'auto' (default): the native engine if its binary is present, else WebAssembly. */
  backend?: 'auto' | 'native' | 'wasm';
  /** The wasm build: 'full' (default, training included) or 'serve' (no training stack). */
  wasm?: 'full' | 'serve';
  wasmPath?: string;
  /** The native engine's binary, instead of the lookup: $GOGNN_ENGINE, @gognn/<platform>, dist/. */
  enginePath?: string;
  /** Options of the engine's lookup, for tests: env, platform, arch, paths (to resolve @gognn/<platform> from), dist. */
  lookup?: { env?: Record<string, string | undefined>; platform?: string; arch?: string; paths?: string[]; dist?: string };
  /**
   * Native engine: how long, in microseconds, Node (after sending a request) and the engine
   * (after answering one) poll for the other's next frame before sleeping; 0 never polls. By
   * default Node does not poll and the engine polls 100 µs (Node's polling holds a CPU the
   * engine may need; see js/README.md). Polling saves the wake-up of a sleeping process on each call, at the cost of up to
   * that much CPU per call on each side, and only while calls come back that quickly. A call
   * sent alone polls synchronously, holding the event loop for up to that long.
   */
  spinMicros?: number;
  /** The engine's side of spinMicros, when it should differ (default spinMicros if given, else 100). */
  engineSpinMicros?: number;
}

export interface CreateIndexOptions {
  dim: number;
  /** Default 'cosine'. */
  metric?: Metric;
  /** Re-rank with the GNN and learn from feedback; default true for 'cosine' (which it requires). */
  learn?: boolean;
  /** Neighbours per node (layer 0 keeps 2M), default 16. */
  M?: number;
  /** Candidate list when inserting, default 200. */
  efConstruction?: number;
  seed?: number | bigint;
  /** HNSW candidates re-ranked per query by a learning index (its default ef), default 100. */
  candidates?: number;
}

export interface SearchOptions {
  /** Candidate list size (0 or absent: the index's default). */
  ef?: number;
  /** Ids never returned. */
  exclude?: Int32Array | number[];
}

export interface SearchResult {
  /** nq * k ids, row-major; -1 where fewer than k were found. */
  ids: Int32Array;
  /** nq * k distances, smaller is closer (1 - the GNN's cosine similarity for a learning index). */
  distances: Float32Array;
}

export interface TrainStats {
  steps: number;
  pairs: number;
  loss: number | null;
  newEdges: number;
  refreshed: number;
}

export interface IndexStats {
  dim: number;
  learns: boolean;
  len: number;
  live: number;
  deleted: number;
  [key: string]: unknown;
}

export interface Info {
  goos: string;
  goarch: string;
  go: string;
  kernels: 'avx512' | 'avx2' | 'generic';
  threads: number;
  training: boolean;
}

declare class Handle {
  readonly id: number;
  readonly closed: boolean;
  /** Releases the backend's object; later calls throw. */
  close(): Promise<void>;
}

export declare class Index extends Handle {
  readonly dim: number;
  readonly learns: boolean;
  /** Appends vectors (n * dim values) and returns their ids. */
  add(vectors: Float32Array): Promise<Int32Array>;
  /** The k nearest of each query (nq * dim values). */
  search(queries: Float32Array, k: number, opts?: SearchOptions): Promise<SearchResult>;
  /** Which of the results shown for one query were relevant; ef as in the search judged. */
  feedback(query: Float32Array, shown: Int32Array | number[], relevant: ArrayLike<boolean | number>, opts?: { ef?: number }): Promise<void>;
  train(): Promise<TrainStats>;
  stats(): Promise<IndexStats>;
  /** The index's bytes, for Client.load or Go's search.LoadFrom / hnsw.LoadFrom. */
  save(): Promise<Uint8Array>;
}

export interface Graph {
  /** n + 1 offsets: the in-edges of node i are colIdx[rowPtr[i]:rowPtr[i+1]]. */
  rowPtr: Int32Array | number[];
  colIdx: Int32Array | number[];
  /** n * features values, row-major. */
  features: Float32Array;
}

export declare class Model extends Handle {
  /** The model's output for every node: rows * cols values. */
  embed(graph: Graph): Promise<{ rows: number; cols: number; data: Float32Array }>;
}

export declare class Client {
  readonly backend: 'native' | 'wasm' | 'wasm-serve' | 'worker';
  info(): Promise<Info>;
  createIndex(opts: CreateIndexOptions): Promise<Index>;
  load(bytes: Uint8Array): Promise<Index>;
  /** A model file written by Go's models.Save: GCN, GraphSAGE (mean, max, sum, lstm) or GAT; every build. */
  loadModel(bytes: Uint8Array): Promise<Model>;
  /** Ends the backend; handles stop working. */
  close(): Promise<void>;
}

export declare function open(opts?: OpenOptions): Promise<Client>;

declare const gognn: { open: typeof open; Client: typeof Client; Index: typeof Index; Model: typeof Model };
export default gognn;
