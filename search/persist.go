package search

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/modelfile"
)

// Files of a saved index, in its directory.
const (
	IndexFile = "index.hnsw" // the HNSW index, hnsw.Index.Save's format
	ModelFile = "model.gnn"  // the GNN's weights and Adam moments, a modelfile (see ModelArchitecture)
	StateFile = "gnn.state"  // the feedback state, the format below
)

// ModelArchitecture is the architecture header of a saved index's model file, so the file
// describes itself like every model file of the framework (modelfile.Read shows it). The file
// holds, in float32, each parameter under its name (sage_hnsw.lin_l.weight, ...; weights are
// (in, out) matrices) followed by Adam's moments as <name>.adam_m and <name>.adam_v.
type ModelArchitecture struct {
	Model  string `json:"model"`  // "search"
	In     int    `json:"in"`     // dimension of the corpus vectors
	Hidden int    `json:"hidden"` // Config.Hidden
	Config Config `json:"config"` // the index's configuration, defaults filled in
}

// State file format, version 2. All integers little endian, floats as IEEE 754 bits.
//
//	magic     8 bytes "GOGNNsrh"
//	version   uint32 (2)
//	config    Hidden, Candidates, QueryDegree, BufferSize, Steps, BatchSize uint32;
//	          FeedbackDegree int32; LearningRate, Temperature float64; Seed uint64
//	hnsw      vectors uint64, dim uint32, CRC-32C of the whole index file uint32
//	model     CRC-32C of the whole model file uint32
//	adam      step uint64
//	rng       uint32 length, then the replay sampler's state (PCG MarshalBinary)
//	feedback  for each of the vectors: count uint32, then count neighbour ids uint32, oldest first
//	buffer    events received uint64, count uint32, then each event oldest first: query nonzeros
//	          uint32, their columns uint32, their values float32; neighbours uint32 + ids uint32;
//	          shown uint32 + ids uint32; one byte per shown result (1 relevant, 0 not)
//	pending   count uint32, then pairs of ids uint32
//	crc       uint32 CRC-32C (Castagnoli) of every byte before it
//
// The corpus embeddings are not stored: Load recomputes them from the weights and the graph,
// which gives the same values bit for bit.
const (
	stateMagic   = "GOGNNsrh"
	stateVersion = 2
	modelName    = "search"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by the errors Load returns for a state file that is truncated, fails
// its checksum, holds inconsistent data or does not belong to the index file beside it.
var ErrCorrupt = errors.New("corrupt search index")

// Save writes the index to the directory dir (created if missing): the HNSW index to
// dir/index.hnsw (hnsw.Index.Save), the GNN's weights and Adam's moments to dir/model.gnn (a
// model file, see ModelArchitecture) and the feedback graph, the replay buffer and the
// sampler's state to dir/gnn.state. Each file is written atomically (a temporary file renamed
// over the old one) and the state file, written last, records the checksums of the other two,
// so files from two different saves (a crash between the renames) are detected by Load. Feedback pending for
// the next Train is saved too. Searches and Feedback may run during Save; Train and Add wait.
func (s *Index) Save(dir string) error {
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	ipath := filepath.Join(dir, IndexFile)
	if err := s.ix.Save(ipath); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	sum, err := fileCRC(ipath)
	if err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	mpath := filepath.Join(dir, ModelFile)
	if err := modelfile.Write(mpath, s.architecture(), s.modelTensors(), modelfile.FP32); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	msum, err := fileCRC(mpath)
	if err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	s.bufMu.Lock()
	events, total := s.buf.ordered(), s.buf.total
	pending := slices.Clone(s.buf.pending)
	s.bufMu.Unlock()
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}

	le := binary.LittleEndian
	var b []byte
	u32 := func(v int) { b = le.AppendUint32(b, uint32(v)) }
	ids := func(v []int32) {
		u32(len(v))
		for _, x := range v {
			u32(int(x))
		}
	}
	f32s := func(v []float32) {
		for _, x := range v {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
	}
	b = append(b, stateMagic...)
	u32(stateVersion)
	c := s.cfg
	for _, v := range []int{c.Hidden, c.Candidates, c.QueryDegree, c.BufferSize, c.Steps, c.BatchSize, c.FeedbackDegree} {
		u32(v)
	}
	b = le.AppendUint64(b, math.Float64bits(c.LearningRate))
	b = le.AppendUint64(b, math.Float64bits(c.Temperature))
	b = le.AppendUint64(b, c.Seed)
	b = le.AppendUint64(b, uint64(len(s.feats)))
	u32(s.dim)
	u32(int(sum))
	u32(int(msum))
	b = le.AppendUint64(b, uint64(s.adamT))
	u32(len(rng))
	b = append(b, rng...)
	for _, r := range s.fb {
		ids(r)
	}
	b = le.AppendUint64(b, uint64(total))
	u32(len(events))
	for _, e := range events {
		ids(e.Query.Cols)
		f32s(e.Query.Vals)
		ids(e.Nbrs)
		ids(e.Shown)
		for _, r := range e.Relevant {
			if r {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	}
	u32(len(pending))
	for _, p := range pending {
		u32(int(p[0]))
		u32(int(p[1]))
	}
	b = le.AppendUint32(b, crc32.Checksum(b, castagnoli))
	if err := atomicfile.WriteBytes(filepath.Join(dir, StateFile), b, 0o644); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	return nil
}

func fileCRC(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, f); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

// Load reads an index saved by Save from dir. It validates the state file completely (checksum,
// sizes, ids, shapes, finite values) and checks that it belongs to the index file beside it; the
// loaded index ranks exactly as the saved one did and continues training exactly as it would
// have.
func Load(dir string) (*Index, error) {
	ipath, mpath, spath := filepath.Join(dir, IndexFile), filepath.Join(dir, ModelFile), filepath.Join(dir, StateFile)
	data, err := os.ReadFile(spath)
	if err != nil {
		return nil, fmt.Errorf("search: Load: %w", err)
	}
	ix, err := hnsw.Load(ipath)
	if err != nil {
		return nil, fmt.Errorf("search: Load: %w", err)
	}
	sum, err := fileCRC(ipath)
	if err != nil {
		return nil, fmt.Errorf("search: Load: %w", err)
	}
	msum, err := fileCRC(mpath)
	if err != nil {
		return nil, fmt.Errorf("search: Load: %w", err)
	}
	s, err := decodeState(data, ix, sum, msum)
	if err != nil {
		return nil, fmt.Errorf("search: Load %s: %w", spath, err)
	}
	if err := s.loadModel(mpath); err != nil {
		return nil, fmt.Errorf("search: Load %s: %w", mpath, err)
	}
	s.w = snapshot(s.params, s.dim, s.cfg.Hidden)
	s.emb = make([][]float32, len(s.feats))
	s.w.embedRows(s.emb, seq(len(s.feats)), s.feats, s.nbrs, s.fb)
	return s, nil
}

// architecture returns the header of the index's model file.
func (s *Index) architecture() ModelArchitecture {
	return ModelArchitecture{Model: modelName, In: s.dim, Hidden: s.cfg.Hidden, Config: s.cfg}
}

// modelTensors lists the parameters and their Adam moments for the model file.
func (s *Index) modelTensors() []modelfile.Tensor {
	ts := make([]modelfile.Tensor, 0, 3*len(s.params))
	for _, p := range s.params {
		ts = append(ts,
			modelfile.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data},
			modelfile.Tensor{Name: p.Name + ".adam_m", Shape: p.Shape, Data: p.M},
			modelfile.Tensor{Name: p.Name + ".adam_v", Shape: p.Shape, Data: p.V})
	}
	return ts
}

// loadModel reads the weights and Adam's moments from the model file at path into s.params,
// checking that the file describes this index's model.
func (s *Index) loadModel(path string) error {
	f, vals, err := modelfile.Read(path)
	if err != nil {
		return err
	}
	var arch ModelArchitecture
	if err := json.Unmarshal(f.Architecture, &arch); err != nil {
		return corrupt("architecture header: %v", err)
	}
	if want := s.architecture(); arch != want {
		return corrupt("the model file describes %+v, the state file %+v: the files come from different saves", arch, want)
	}
	if len(f.Tensors) != 3*len(s.params) {
		return corrupt("%d tensors, the model has %d (parameters and two Adam moments each)", len(f.Tensors), 3*len(s.params))
	}
	for _, p := range s.params {
		for _, t := range []struct {
			name string
			dst  []float32
		}{{p.Name, p.Data}, {p.Name + ".adam_m", p.M}, {p.Name + ".adam_v", p.V}} {
			info, ok := f.Tensor(t.name)
			if !ok {
				return corrupt("tensor %s is missing", t.name)
			}
			if !slices.Equal(info.Shape, p.Shape) {
				return corrupt("tensor %s has shape %v, the model's is %v", t.name, info.Shape, p.Shape)
			}
			copy(t.dst, vals[t.name])
		}
	}
	return nil
}

// decoder reads little-endian fields, remembering the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = corrupt("truncated in %s (offset %d)", what, d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u32(what string) int {
	p := d.take(4, what)
	if p == nil {
		return 0
	}
	return int(binary.LittleEndian.Uint32(p))
}

func (d *decoder) u64(what string) uint64 {
	p := d.take(8, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

// count reads a uint32 count and checks that at least count*unit more bytes follow.
func (d *decoder) count(unit int, what string) int {
	n := d.u32(what)
	if d.err == nil && n > (len(d.b)-d.off)/unit {
		d.err = corrupt("%s: count %d exceeds the file", what, n)
		return 0
	}
	return n
}

// ids reads a count and that many ids below n.
func (d *decoder) ids(n int, what string) []int32 {
	k := d.count(4, what)
	if d.err != nil || k == 0 {
		return nil
	}
	out := make([]int32, k)
	for i := range out {
		v := d.u32(what)
		if d.err == nil && v >= n {
			d.err = corrupt("%s: id %d out of range [0, %d)", what, v, n)
		}
		out[i] = int32(v)
	}
	return out
}

func (d *decoder) f32s(dst []float32, what string) {
	p := d.take(4*len(dst), what)
	if p == nil {
		return
	}
	for i := range dst {
		v := math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			d.err = corrupt("%s: value %d is %v", what, i, v)
			return
		}
		dst[i] = v
	}
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// decodeState reads a state file for the index ix whose file has the checksum indexCRC, next to
// a model file with the checksum modelCRC. The parameters are left for loadModel.
func decodeState(b []byte, ix *hnsw.Index, indexCRC, modelCRC uint32) (*Index, error) {
	if len(b) < len(stateMagic)+8 || string(b[:len(stateMagic)]) != stateMagic {
		return nil, corrupt("not a search state file (bad magic)")
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(b)-4:]); got != want {
		return nil, corrupt("checksum mismatch (file %08x, computed %08x)", want, got)
	}
	d := &decoder{b: body, off: len(stateMagic)}
	if v := d.u32("version"); v != stateVersion {
		return nil, fmt.Errorf("state file version %d, this build reads version %d", v, stateVersion)
	}
	var c Config
	for _, p := range []*int{&c.Hidden, &c.Candidates, &c.QueryDegree, &c.BufferSize, &c.Steps, &c.BatchSize} {
		*p = d.u32("config")
	}
	c.FeedbackDegree = int(int32(uint32(d.u32("config"))))
	c.LearningRate = math.Float64frombits(d.u64("config"))
	c.Temperature = math.Float64frombits(d.u64("config"))
	c.Seed = d.u64("config")
	n, dim, sum := d.u64("index size"), d.u32("index dimension"), uint32(d.u32("index checksum"))
	if d.err != nil {
		return nil, d.err
	}
	if n != uint64(ix.Len()) || dim != ix.Dim() || sum != indexCRC {
		return nil, corrupt("the state was saved with an index of %d vectors of dimension %d (checksum %08x), but %s holds %d of dimension %d (checksum %08x): the two files come from different saves",
			n, dim, sum, IndexFile, ix.Len(), ix.Dim(), indexCRC)
	}
	if msum := uint32(d.u32("model checksum")); d.err == nil && msum != modelCRC {
		return nil, corrupt("the state was saved with a model file of checksum %08x, but %s has %08x: the two files come from different saves", msum, ModelFile, modelCRC)
	}
	if d.err != nil {
		return nil, d.err
	}
	cfg, err := c.withDefaults()
	if err != nil || cfg != c {
		return nil, corrupt("invalid config %+v", c)
	}
	if ix.Config().Metric != hnsw.Cosine {
		return nil, corrupt("%s is not a Cosine index", IndexFile)
	}
	s, err := newIndex(ix, cfg)
	if err != nil {
		return nil, err
	}
	N := int(n)
	s.adamT = int64(d.u64("adam step"))
	s.steps.Store(s.adamT)
	rng := d.take(d.count(1, "rng"), "rng")
	if d.err == nil {
		if err := s.pcg.UnmarshalBinary(rng); err != nil {
			return nil, corrupt("rng state: %v", err)
		}
	}
	s.fb = make([][]int32, N)
	for i := range s.fb {
		s.fb[i] = d.ids(N, "feedback neighbours")
		if len(s.fb[i]) > max(cfg.FeedbackDegree, 0) {
			return nil, corrupt("node %d has %d feedback neighbours, more than FeedbackDegree %d", i, len(s.fb[i]), cfg.FeedbackDegree)
		}
	}
	s.buf.total = int64(d.u64("events received"))
	ne := d.count(12, "events")
	if ne > cfg.BufferSize {
		return nil, corrupt("%d events in a buffer of %d", ne, cfg.BufferSize)
	}
	for i := 0; i < ne && d.err == nil; i++ {
		e := &event{}
		e.Query.Cols = d.ids(dim, "query columns")
		for j := 1; j < len(e.Query.Cols) && d.err == nil; j++ {
			if e.Query.Cols[j] <= e.Query.Cols[j-1] {
				d.err = corrupt("event %d: query columns not ascending", i)
			}
		}
		e.Query.Vals = make([]float32, len(e.Query.Cols))
		d.f32s(e.Query.Vals, "query values")
		e.Nbrs = d.ids(N, "query neighbours")
		e.Shown = d.ids(N, "shown results")
		for _, r := range d.take(len(e.Shown), "judgements") {
			if r > 1 {
				d.err = corrupt("judgement byte %d", r)
			}
			e.Relevant = append(e.Relevant, r == 1)
		}
		if d.err == nil && len(e.Shown) == 0 {
			d.err = corrupt("event %d has no shown results", i)
		}
		s.buf.events = append(s.buf.events, e)
	}
	np := d.count(8, "pending edges")
	for i := 0; i < np && d.err == nil; i++ {
		a, b := d.u32("pending edges"), d.u32("pending edges")
		if d.err == nil && (a >= N || b >= N) {
			d.err = corrupt("pending edge (%d, %d) out of range [0, %d)", a, b, N)
		}
		s.buf.pending = append(s.buf.pending, [2]int32{int32(a), int32(b)})
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.off != len(body) {
		return nil, corrupt("%d bytes after the data", len(body)-d.off)
	}
	return s, nil
}
