package search

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"testing"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/internal/persist"
)

// trained returns a small index with feedback, a training round and pending feedback.
func trained(t testing.TB, n int) (*Index, corpus) {
	t.Helper()
	c := clustered(n, 8, 4, 3, 0.3, 21)
	cfg := Config{Hidden: 8, Candidates: 20, QueryDegree: 4, Steps: 5, BatchSize: 8, LearningRate: 0.01, Seed: 3}
	s := build(t, c, cfg)
	pool, _ := split(len(c.vecs), 5)
	feedbackRound(t, s, c, pool[:8])
	for _, q := range pool[8:11] { // pending for the next Train
		res, err := s.Search(Query{Vector: c.vecs[q]}, 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Feedback(Query{Vector: c.vecs[q]}, []int{res[0].ID}, []bool{true}); err != nil {
			t.Fatal(err)
		}
	}
	return s, c
}

// sections splits a stream into its three sections.
func sections(t testing.TB, stream []byte) [3][]byte {
	t.Helper()
	d, _, err := persist.Open(stream, streamFormat, streamMagic, streamVersion)
	if err != nil {
		t.Fatal(err)
	}
	var parts [3][]byte
	for i := range parts {
		parts[i] = d.Chunk("section")
	}
	if err := d.Finish("sections"); err != nil {
		t.Fatal(err)
	}
	return parts
}

// container frames three sections into a stream, as SaveTo does.
func container(parts [3][]byte) []byte {
	var buf bytes.Buffer
	persist.Frame(&buf, streamMagic, streamVersion, func(w *persist.Writer) error {
		for _, p := range parts {
			w.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(p))))
			w.Write(p)
		}
		return nil
	})
	return buf.Bytes()
}

func ranks(t testing.TB, s *Index, c corpus, queries []int) [][]Result {
	t.Helper()
	var out [][]Result
	for _, q := range queries {
		res, err := s.Search(Query{Vector: c.vecs[q], Exclude: []int{q}}, 10)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res)
	}
	return out
}

// TestSaveToMatchesSave: the stream holds exactly the three files of Save, and an index loaded
// from either ranks and saves identically.
func TestSaveToMatchesSave(t *testing.T) {
	s, c := trained(t, 120)
	dir := t.TempDir()
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	n, err := s.SaveTo(&stream)
	if err != nil || n != int64(stream.Len()) {
		t.Fatalf("SaveTo: %d bytes, %v", n, err)
	}
	parts := sections(t, stream.Bytes())
	for i, name := range []string{IndexFile, ModelFile, StateFile} {
		file, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file, parts[i]) {
			t.Errorf("the stream's %s section differs from the file Save wrote", name)
		}
	}
	fromDir, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fromStream, err := LoadFrom(bytes.NewReader(stream.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	queries := []int{0, 7, 33, 64, 99}
	want := ranks(t, s, c, queries)
	if !slices.EqualFunc(ranks(t, fromDir, c, queries), want, slices.Equal) || !slices.EqualFunc(ranks(t, fromStream, c, queries), want, slices.Equal) {
		t.Error("a loaded index ranks differently from the saved one")
	}
	var again bytes.Buffer
	if _, err := fromStream.SaveTo(&again); err != nil || !bytes.Equal(again.Bytes(), stream.Bytes()) {
		t.Errorf("an index loaded from a stream saves a different stream (%v)", err)
	}
}

// TestLoadTypedErrorsSearch provokes each typed error in each file of a saved directory and each
// section of a stream, and in the stream's own framing.
func TestLoadTypedErrorsSearch(t *testing.T) {
	s, _ := trained(t, 60)
	var stream bytes.Buffer
	if _, err := s.SaveTo(&stream); err != nil {
		t.Fatal(err)
	}
	good := sections(t, stream.Bytes())
	type damage struct {
		name   string
		apply  func(b []byte, part int) []byte
		target error
		as     func(error) bool
	}
	checksumAs := func(err error) bool { var e *ChecksumError; return errors.As(err, &e) }
	damages := []damage{
		{"truncated", func(b []byte, part int) []byte { return b[:10] }, ErrTruncated, func(err error) bool { var e *TruncatedError; return errors.As(err, &e) }},
		{"flipped byte", func(b []byte, part int) []byte {
			b = slices.Clone(b)
			b[len(b)-1] ^= 8 // the trailer of framed files, a tensor's last byte of the model file
			return b
		}, ErrChecksum, checksumAs},
		{"version bumped", func(b []byte, part int) []byte {
			b = slices.Clone(b)
			binary.LittleEndian.PutUint32(b[8:], 7)
			return b
		}, ErrVersion, func(err error) bool {
			var e *VersionError
			return errors.As(err, &e) && e.Found == 7 && !errors.Is(err, ErrCorrupt)
		}},
		{"wrong magic", func(b []byte, part int) []byte {
			b = slices.Clone(b)
			b[1] = '?'
			return b
		}, ErrMagic, func(err error) bool { var e *MagicError; return errors.As(err, &e) }},
	}
	for _, dmg := range damages {
		for part, name := range []string{IndexFile, ModelFile, StateFile} {
			parts := good
			parts[part] = dmg.apply(good[part], part)
			dir := t.TempDir()
			for i, n := range []string{IndexFile, ModelFile, StateFile} {
				if err := os.WriteFile(filepath.Join(dir, n), parts[i], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, derr := Load(dir)
			_, serr := LoadFrom(bytes.NewReader(container(parts)))
			for _, err := range []error{derr, serr} {
				if !errors.Is(err, dmg.target) || !dmg.as(err) {
					t.Errorf("%s %s: error %v, want %v", dmg.name, name, err, dmg.target)
				}
			}
		}
		// The stream's own framing.
		_, err := LoadFrom(bytes.NewReader(dmg.apply(stream.Bytes(), -1)))
		if !errors.Is(err, dmg.target) || !dmg.as(err) {
			t.Errorf("%s stream: error %v, want %v", dmg.name, err, dmg.target)
		}
	}
	// A section length beyond the stream, with a valid checksum.
	bad := slices.Clone(stream.Bytes()[:len(stream.Bytes())-4])
	binary.LittleEndian.PutUint64(bad[persist.HeaderSize:], 1<<60)
	bad = binary.LittleEndian.AppendUint32(bad, persist.Checksum(bad))
	if _, err := LoadFrom(bytes.NewReader(bad)); !errors.Is(err, ErrTruncated) {
		t.Errorf("huge section length: %v, want ErrTruncated", err)
	}
}

// TestLoadVersion2Fixture: a directory saved by the code before the persistence layer was
// shared (testdata/v2, commit fa975d6: state file version 2, whose index checksum field is the
// CRC of the whole index file) still loads and ranks as it did when saved (ranks.json); saved
// again it is version 3, and a version 1 state file is refused with a *VersionError.
func TestLoadVersion2Fixture(t *testing.T) {
	dir := filepath.Join("testdata", "v2")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "ranks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]int
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	c := clustered(60, 8, 4, 3, 0.3, 9) // the fixture's corpus
	for i, q := range want {
		res, err := s.Search(Query{Vector: c.vecs[40+i]}, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int, len(res))
		for j, r := range res {
			got[j] = r.ID
		}
		if !slices.Equal(got, q) {
			t.Fatalf("query %d ranks %v, the saved index ranked %v", 40+i, got, q)
		}
	}
	out := t.TempDir()
	if err := s.Save(out); err != nil {
		t.Fatal(err)
	}
	state, _ := os.ReadFile(filepath.Join(out, StateFile))
	if v := binary.LittleEndian.Uint32(state[8:]); v != stateVersion {
		t.Errorf("saved state version %d, want %d", v, stateVersion)
	}
	if _, err := Load(out); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(state[8:], 1)
	binary.LittleEndian.PutUint32(state[len(state)-4:], persist.Checksum(state[:len(state)-4]))
	os.WriteFile(filepath.Join(out, StateFile), state, 0o644)
	var verr *VersionError
	if _, err := Load(out); !errors.As(err, &verr) || verr.Found != 1 || !slices.Equal(verr.Supported, []uint32{2, 3}) {
		t.Errorf("version 1 state: %v, want a *VersionError with found 1, supported [2 3]", err)
	}
}

// TestIndexChecksumTellsSavesApart: version 3 records the index file's own checksum, so an
// index file of the same size from another save is detected (version 2 recorded a constant).
func TestIndexChecksumTellsSavesApart(t *testing.T) {
	s, c := trained(t, 60)
	dir, other := t.TempDir(), t.TempDir()
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	// The same vectors in another insertion order: the same size, a different graph.
	ix, err := hnsw.New(hnsw.Config{Dim: 8, Metric: hnsw.Cosine, M: 8, EfConstruction: 64, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range c.vecs {
		if _, err := ix.Add(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Save(filepath.Join(other, IndexFile)); err != nil {
		t.Fatal(err)
	}
	idx, _ := os.ReadFile(filepath.Join(other, IndexFile))
	os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644)
	if _, err := Load(dir); !errors.Is(err, ErrCorrupt) {
		t.Errorf("index file of another save: %v, want ErrCorrupt naming different saves", err)
	}
}

// allocBound fails if reading n bytes allocated more than a fixed multiple of n. It reads the
// runtime's allocation counter through runtime/metrics, which does not stop the world
// (runtime.ReadMemStats does, and waits for every thread, which stalls under load).
func allocBound(t *testing.T, n int, read func()) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	read()
	metrics.Read(sample)
	if alloc := sample[0].Value.Uint64() - before; alloc > 1<<23+2048*uint64(n) {
		t.Fatalf("reading %d bytes allocated %d bytes", n, alloc)
	}
}

// refitHalf gives half of the fuzz inputs (by a bit of the input) a valid CRC-32C trailer, so
// that mutations reach the checks behind the checksum.
func refitHalf(b []byte) []byte {
	if len(b) > 16 && b[len(b)-5]&1 == 0 {
		b = slices.Clone(b)
		binary.LittleEndian.PutUint32(b[len(b)-4:], persist.Checksum(b[:len(b)-4]))
	}
	return b
}

// checkLoadError fails unless err is one of the typed load errors.
func checkLoadError(t *testing.T, err error) {
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
		t.Fatalf("error %v matches neither ErrCorrupt nor ErrVersion", err)
	}
}

// FuzzState feeds the gnn.state reader arbitrary bytes beside a fixed index and model file,
// starting from real saves. It must never panic or allocate more than a fixed multiple of the
// input; half of the inputs get a valid checksum so that mutations reach the field checks.
func FuzzState(f *testing.F) {
	s, _ := trained(f, 40)
	var stream bytes.Buffer
	if _, err := s.SaveTo(&stream); err != nil {
		f.Fatal(err)
	}
	parts := sections(f, stream.Bytes())
	f.Add(parts[2])
	empty, err := New(mustHNSW(&testing.T{}, hnsw.Cosine), Config{})
	if err == nil {
		var b bytes.Buffer
		if _, err := empty.SaveTo(&b); err == nil {
			f.Add(sections(f, b.Bytes())[2])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = refitHalf(b)
		allocBound(t, len(b)+len(parts[0])+len(parts[1]), func() {
			l, err := load(parts[0], parts[1], b, func(int) string { return "part" })
			if err != nil {
				checkLoadError(t, err)
				return
			}
			if _, err := l.Search(Query{Vector: []float32{1, 0, 0, 0, 0, 0, 0, 0}}, 5); err != nil {
				t.Fatalf("a loaded index cannot search: %v", err)
			}
		})
	})
}

// FuzzLoadFrom feeds the stream reader arbitrary bytes, starting from real streams: no panic,
// allocation bounded by a multiple of the input.
func FuzzLoadFrom(f *testing.F) {
	s, _ := trained(f, 40)
	var stream bytes.Buffer
	if _, err := s.SaveTo(&stream); err != nil {
		f.Fatal(err)
	}
	f.Add(stream.Bytes())
	f.Add([]byte(streamMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = refitHalf(b)
		allocBound(t, len(b), func() {
			if _, err := LoadFrom(bytes.NewReader(b)); err != nil {
				checkLoadError(t, err)
			}
		})
	})
}

// TestSaveToDuringSearches: SaveTo runs while searches and feedback go on (run with -race),
// and every stream it writes loads.
func TestSaveToDuringSearches(t *testing.T) {
	s, c := trained(t, 60)
	stop := make(chan struct{})
	done := make(chan error, 2)
	for g := range 2 {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				q := Query{Vector: c.vecs[(7*i+g)%len(c.vecs)]}
				res, err := s.Search(q, 3)
				if err == nil && g == 1 {
					err = s.Feedback(q, []int{res[0].ID}, []bool{true})
				}
				if err != nil {
					done <- err
					return
				}
			}
		}()
	}
	for range 3 {
		var buf bytes.Buffer
		if _, err := s.SaveTo(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFrom(&buf); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
