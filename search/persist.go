package search

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/internal/persist"
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

// State file format, version 3. All integers little endian, floats as IEEE 754 bits.
//
//	magic     8 bytes "GOGNNsrh"
//	version   uint32 (3)
//	config    Hidden, Candidates, QueryDegree, BufferSize, Steps, BatchSize uint32;
//	          FeedbackDegree int32; LearningRate, Temperature float64; Seed uint64
//	hnsw      vectors uint64, dim uint32, the index file's checksum (its CRC-32C trailer) uint32
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
// The magic, version and checksum are the framing of package internal/persist. Version 2
// differs only in the hnsw checksum field, which held the CRC-32C of the whole index file: a
// constant for every intact file (a property of the CRC), so it never told two saves apart.
// Load still reads version 2 files, checking the index by its size and dimension only.
//
// The corpus embeddings are not stored: Load recomputes them from the weights and the graph,
// which gives the same values bit for bit.
const (
	stateMagic   = "GOGNNsrh"
	stateVersion = 3
	stateFormat  = "a search state file"
	modelName    = "search"
)

// The stream container of SaveTo and LoadFrom (see SaveTo).
const (
	streamMagic   = "GOGNNsix"
	streamVersion = 1
	streamFormat  = "a search index stream"
)

// Errors of Load and LoadFrom, shared with the module's other file formats (hnsw, modelfile,
// models, datasets): ErrCorrupt matches every damaged or inconsistent file, or files from
// different saves (and ErrChecksum, ErrTruncated and ErrMagic narrow it down); ErrVersion a
// file of a version this build does not read, as a *VersionError carrying the found and
// supported versions.
var (
	ErrCorrupt   = persist.ErrCorrupt
	ErrChecksum  = persist.ErrChecksum
	ErrTruncated = persist.ErrTruncated
	ErrMagic     = persist.ErrMagic
	ErrVersion   = persist.ErrVersion
)

// The typed errors behind the sentinels, for errors.As.
type (
	ChecksumError  = persist.ChecksumError
	TruncatedError = persist.TruncatedError
	MagicError     = persist.MagicError
	VersionError   = persist.VersionError
)

// Save writes the index to the directory dir (created if missing): the HNSW index to
// dir/index.hnsw (hnsw.Index.Save), the GNN's weights and Adam's moments to dir/model.gnn (a
// model file, see ModelArchitecture) and the feedback graph, the replay buffer and the
// sampler's state to dir/gnn.state. Each file is written atomically (a temporary file renamed
// over the old one) and the state file, written last, records the checksums of the other two,
// so files from two different saves (a crash between the renames) are detected by Load. Feedback pending for
// the next Train is saved too. Searches and Feedback may run during Save; Train and Add wait.
func (s *Index) Save(dir string) error {
	s.learnMu.Lock()
	defer s.learnMu.Unlock()
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	ipath := filepath.Join(dir, IndexFile)
	if err := s.ix.Save(ipath); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	isum, err := fileTrailer(ipath)
	if err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	model, err := s.modelBytes()
	if err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, ModelFile), model, 0o644); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	state, err := s.stateBytes(isum, persist.Checksum(model))
	if err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, StateFile), state, 0o644); err != nil {
		return fmt.Errorf("search: Save: %w", err)
	}
	return nil
}

// SaveTo writes the index to w as one stream and returns the number of bytes written: the form
// for callers without files, such as the WebAssembly build. The stream is a container of the
// three files Save writes, byte for byte, little endian:
//
//	magic     8 bytes "GOGNNsix"
//	version   uint32 (1)
//	index     uint64 length, then the bytes of index.hnsw
//	model     uint64 length, then the bytes of model.gnn
//	state     uint64 length, then the bytes of gnn.state
//	crc       uint32 CRC-32C (Castagnoli) of every byte before it
//
// so splitting a stream into the three files of a directory, or joining them, gives an index
// that loads the same. Searches and Feedback may run during SaveTo; Train and Add wait.
func (s *Index) SaveTo(w io.Writer) (int64, error) {
	s.learnMu.Lock()
	defer s.learnMu.Unlock()
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	var index bytes.Buffer
	if _, err := s.ix.SaveTo(&index); err != nil {
		return 0, fmt.Errorf("search: SaveTo: %w", err)
	}
	model, err := s.modelBytes()
	if err != nil {
		return 0, fmt.Errorf("search: SaveTo: %w", err)
	}
	state, err := s.stateBytes(persist.Trailer(index.Bytes()), persist.Checksum(model))
	if err != nil {
		return 0, fmt.Errorf("search: SaveTo: %w", err)
	}
	n, err := persist.Frame(w, streamMagic, streamVersion, func(pw *persist.Writer) error {
		for _, part := range [][]byte{index.Bytes(), model, state} {
			if _, err := pw.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(part)))); err != nil {
				return err
			}
			if _, err := pw.Write(part); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("search: SaveTo: %w", err)
	}
	return n, nil
}

// modelBytes returns the model file of the index.
func (s *Index) modelBytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := modelfile.WriteTo(&buf, s.architecture(), s.modelTensors(), modelfile.FP32); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stateBytes returns the state file of the index, next to an index file whose trailer is
// indexSum and a model file whose CRC-32C is modelSum (trainMu held).
func (s *Index) stateBytes(indexSum, modelSum uint32) ([]byte, error) {
	s.bufMu.Lock()
	events, total := s.buf.ordered(), s.buf.total
	pending := slices.Clone(s.buf.pending)
	s.bufMu.Unlock()
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return nil, err
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
	c := s.cfg
	for _, v := range []int{c.Hidden, c.Candidates, c.QueryDegree, c.BufferSize, c.Steps, c.BatchSize, c.FeedbackDegree} {
		u32(v)
	}
	b = le.AppendUint64(b, math.Float64bits(c.LearningRate))
	b = le.AppendUint64(b, math.Float64bits(c.Temperature))
	b = le.AppendUint64(b, c.Seed)
	b = le.AppendUint64(b, uint64(len(s.feats)))
	u32(s.dim)
	u32(int(indexSum))
	u32(int(modelSum))
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
	var out bytes.Buffer
	if _, err := persist.Frame(&out, stateMagic, stateVersion, func(w *persist.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// fileTrailer returns the checksum stored at the end of the framed file at path.
func fileTrailer(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var t [persist.TrailerSize]byte
	if _, err := f.Seek(-persist.TrailerSize, io.SeekEnd); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(f, t[:]); err != nil {
		return 0, err
	}
	return persist.Trailer(t[:]), nil
}

// Load reads an index saved by Save from dir. It validates the state file completely (checksum,
// sizes, ids, shapes, finite values) and checks that it belongs to the index and model files
// beside it; the loaded index ranks exactly as the saved one did and continues training exactly
// as it would have. A damaged file gives an error wrapping ErrCorrupt (see the errors above)
// naming the file, a file of another version a *VersionError.
func Load(dir string) (*Index, error) {
	var parts [3][]byte
	for i, name := range partFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("search: Load: %w", err)
		}
		parts[i] = b
	}
	s, err := load(parts[0], parts[1], parts[2], func(i int) string { return filepath.Join(dir, partFiles[i]) })
	if err != nil {
		return nil, fmt.Errorf("search: Load %w", err)
	}
	return s, nil
}

// LoadFrom reads an index written by SaveTo from r, to its end, and checks it as Load does,
// with the same errors for the same damage.
func LoadFrom(r io.Reader) (*Index, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("search: LoadFrom: %w", err)
	}
	d, _, err := persist.Open(data, streamFormat, streamMagic, streamVersion)
	if err != nil {
		return nil, fmt.Errorf("search: LoadFrom: %w", err)
	}
	var parts [3][]byte
	for i, name := range partFiles {
		parts[i] = d.Chunk(name + " section")
	}
	if err := d.Finish("the state section"); err != nil {
		return nil, fmt.Errorf("search: LoadFrom: %w", err)
	}
	s, err := load(parts[0], parts[1], parts[2], func(i int) string { return partFiles[i] + " section" })
	if err != nil {
		return nil, fmt.Errorf("search: LoadFrom: %w", err)
	}
	return s, nil
}

// partFiles are the files of a saved index in the order of the stream's sections.
var partFiles = [3]string{IndexFile, ModelFile, StateFile}

// load builds an index from the bytes of its three files; name(i) names part i (of partFiles)
// in errors.
func load(index, model, state []byte, name func(int) string) (*Index, error) {
	ix, err := hnsw.Decode(index)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name(0), err)
	}
	// The model file is checked before the state's cross-checks, so that damage to it is
	// reported as damage, not as files of different saves.
	f, vals, err := modelfile.ReadFrom(bytes.NewReader(model))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name(1), err)
	}
	s, err := decodeState(state, ix, index, persist.Checksum(model))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name(2), err)
	}
	if err := s.loadModel(f, vals); err != nil {
		return nil, fmt.Errorf("%s: %w", name(1), err)
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

// loadModel copies the weights and Adam's moments of a model file into s.params, checking
// that the file describes this index's model.
func (s *Index) loadModel(f *modelfile.File, vals map[string][]float32) error {
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

// stateDecoder adds the state file's compound fields to persist.Decoder.
type stateDecoder struct{ *persist.Decoder }

func (d stateDecoder) u32(what string) int { return int(d.U32(what)) }

// ids reads a count and that many ids below n.
func (d stateDecoder) ids(n int, what string) []int32 {
	k := d.Count(4, what)
	if d.Err() != nil || k == 0 {
		return nil
	}
	out := make([]int32, k)
	for i := range out {
		v := d.u32(what)
		if d.Err() == nil && v >= n {
			d.Fail(corrupt("%s: id %d out of range [0, %d)", what, v, n))
		}
		out[i] = int32(v)
	}
	return out
}

var corrupt = persist.Corruptf

// decodeState reads a state file for the index ix decoded from the bytes index, next to a model
// file with the CRC-32C modelCRC. The parameters are left for loadModel.
func decodeState(b []byte, ix *hnsw.Index, index []byte, modelCRC uint32) (*Index, error) {
	pd, version, err := persist.Open(b, stateFormat, stateMagic, 2, stateVersion)
	if err != nil {
		return nil, err
	}
	d := stateDecoder{pd}
	indexCRC := persist.Trailer(index)
	if version == 2 {
		indexCRC = persist.Checksum(index) // what version 2 recorded
	}
	var c Config
	for _, p := range []*int{&c.Hidden, &c.Candidates, &c.QueryDegree, &c.BufferSize, &c.Steps, &c.BatchSize} {
		*p = d.u32("config")
	}
	c.FeedbackDegree = int(int32(uint32(d.u32("config"))))
	c.LearningRate = math.Float64frombits(d.U64("config"))
	c.Temperature = math.Float64frombits(d.U64("config"))
	c.Seed = d.U64("config")
	n, dim, sum := d.U64("index size"), d.u32("index dimension"), uint32(d.u32("index checksum"))
	if d.Err() != nil {
		return nil, d.Err()
	}
	if n != uint64(ix.Len()) || dim != ix.Dim() || sum != indexCRC {
		return nil, corrupt("the state was saved with an index of %d vectors of dimension %d (checksum %08x), but %s holds %d of dimension %d (checksum %08x): the two files come from different saves",
			n, dim, sum, IndexFile, ix.Len(), ix.Dim(), indexCRC)
	}
	if msum := uint32(d.u32("model checksum")); d.Err() == nil && msum != modelCRC {
		return nil, corrupt("the state was saved with a model file of checksum %08x, but %s has %08x: the two files come from different saves", msum, ModelFile, modelCRC)
	}
	if d.Err() != nil {
		return nil, d.Err()
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
	s.adamT = int64(d.U64("adam step"))
	s.steps.Store(s.adamT)
	rng := d.Bytes(d.Count(1, "rng"), "rng")
	if d.Err() == nil {
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
	s.buf.total = int64(d.U64("events received"))
	ne := d.Count(12, "events")
	if ne > cfg.BufferSize {
		return nil, corrupt("%d events in a buffer of %d", ne, cfg.BufferSize)
	}
	for i := 0; i < ne && d.Err() == nil; i++ {
		e := &event{}
		e.Query.Cols = d.ids(dim, "query columns")
		for j := 1; j < len(e.Query.Cols) && d.Err() == nil; j++ {
			if e.Query.Cols[j] <= e.Query.Cols[j-1] {
				d.Fail(corrupt("event %d: query columns not ascending", i))
			}
		}
		e.Query.Vals = make([]float32, len(e.Query.Cols))
		d.F32s(e.Query.Vals, true, "query values")
		e.Nbrs = d.ids(N, "query neighbours")
		e.Shown = d.ids(N, "shown results")
		for _, r := range d.Bytes(len(e.Shown), "judgements") {
			if r > 1 {
				d.Fail(corrupt("judgement byte %d", r))
			}
			e.Relevant = append(e.Relevant, r == 1)
		}
		if d.Err() == nil && len(e.Shown) == 0 {
			d.Fail(corrupt("event %d has no shown results", i))
		}
		s.buf.events = append(s.buf.events, e)
	}
	np := d.Count(8, "pending edges")
	for i := 0; i < np && d.Err() == nil; i++ {
		a, b := d.u32("pending edges"), d.u32("pending edges")
		if d.Err() == nil && (a >= N || b >= N) {
			d.Fail(corrupt("pending edge (%d, %d) out of range [0, %d)", a, b, N))
		}
		s.buf.pending = append(s.buf.pending, [2]int32{int32(a), int32(b)})
	}
	if err := d.Finish("the pending edges"); err != nil {
		return nil, err
	}
	return s, nil
}
