package hnsw_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"testing"

	"github.com/gnnlab/gognn/hnsw"
)

// savedIndex returns a small index with a tombstone and its saved bytes.
func savedIndex(t testing.TB, cfg hnsw.Config, n int) (*hnsw.Index, []byte) {
	t.Helper()
	base, _ := dataset(n, 0, cfg.Dim, 11)
	ix := build(t, cfg, base)
	if n > 3 {
		if err := ix.Delete(3); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := ix.SaveTo(&buf); err != nil {
		t.Fatal(err)
	}
	return ix, buf.Bytes()
}

// TestSaveToMatchesSave: the stream form writes the bytes of the file form, and loading either
// gives the same index.
func TestSaveToMatchesSave(t *testing.T) {
	ix, stream := savedIndex(t, hnsw.Config{Dim: 8, M: 6, Seed: 5, Metric: hnsw.Cosine}, 150)
	path := filepath.Join(t.TempDir(), "x.hnsw")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, stream) {
		t.Fatalf("Save wrote %d bytes, SaveTo %d, and they differ", len(file), len(stream))
	}
	fromPath, err := hnsw.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fromBytes, err := hnsw.LoadFrom(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	fromPath.SaveTo(&a)
	fromBytes.SaveTo(&b)
	if !bytes.Equal(a.Bytes(), stream) || !bytes.Equal(b.Bytes(), stream) {
		t.Error("a loaded index saves different bytes")
	}
	_, queries := dataset(0, 20, 8, 12)
	ra := searchAll(t, fromPath, queries, 10, 40)
	rb := searchAll(t, fromBytes, queries, 10, 40)
	for q := range ra {
		if !slices.Equal(ra[q], rb[q]) {
			t.Fatalf("query %d: %v from the file, %v from the bytes", q, ra[q], rb[q])
		}
	}
}

// TestLoadTypedErrors provokes each typed error through Load and LoadFrom.
func TestLoadTypedErrors(t *testing.T) {
	_, data := savedIndex(t, hnsw.Config{Dim: 4, M: 4, Seed: 3}, 60)
	refit := func(b []byte) []byte { // a valid checksum over b's body
		b = slices.Clone(b)
		put32(b[len(b)-4:], crc32c(b[:len(b)-4]))
		return b
	}
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 4
	bumped := slices.Clone(data)
	put32(bumped[8:], 2)
	magic := slices.Clone(data)
	copy(magic, "HNSWgogX")
	shortBody := refit(append(slices.Clone(data[:40]), 0, 0, 0, 0))
	is := func(target error, as func(error) bool) func(error) bool {
		return func(err error) bool { return errors.Is(err, target) && as(err) }
	}
	for _, c := range []struct {
		name string
		data []byte
		ok   func(error) bool
	}{
		{"truncated file", data[:len(data)-7], is(hnsw.ErrChecksum, func(err error) bool { var e *hnsw.ChecksumError; return errors.As(err, &e) })},
		{"truncated header", data[:10], is(hnsw.ErrTruncated, func(err error) bool { var e *hnsw.TruncatedError; return errors.As(err, &e) })},
		{"short body, valid checksum", shortBody, is(hnsw.ErrTruncated, func(err error) bool { var e *hnsw.TruncatedError; return errors.As(err, &e) })},
		{"flipped byte", flipped, is(hnsw.ErrChecksum, func(err error) bool { var e *hnsw.ChecksumError; return errors.As(err, &e) && e.Stored != e.Computed })},
		{"version bumped", bumped, is(hnsw.ErrVersion, func(err error) bool {
			var e *hnsw.VersionError
			return errors.As(err, &e) && e.Found == 2 && slices.Equal(e.Supported, []uint32{1}) && !errors.Is(err, hnsw.ErrCorrupt)
		})},
		{"wrong magic", magic, is(hnsw.ErrMagic, func(err error) bool {
			var e *hnsw.MagicError
			return errors.As(err, &e) && string(e.Found) == "HNSWgogX"
		})},
	} {
		path := filepath.Join(t.TempDir(), "bad.hnsw")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, perr := hnsw.Load(path)
		_, berr := hnsw.LoadFrom(bytes.NewReader(c.data))
		if !c.ok(perr) || !c.ok(berr) {
			t.Errorf("%s: Load: %v; LoadFrom: %v", c.name, perr, berr)
		}
		if c.name != "version bumped" && (!errors.Is(perr, hnsw.ErrCorrupt) || !errors.Is(berr, hnsw.ErrCorrupt)) {
			t.Errorf("%s: errors do not match ErrCorrupt", c.name)
		}
	}
}

// FuzzLoad feeds the index reader arbitrary bytes, starting from real saves. It must never
// panic; half of the inputs get a valid checksum so that mutations reach the field checks; an
// accepted input must be a consistent index that searches and saves canonically; and
// no input may make the reader allocate more than a fixed multiple of its size (a length field
// trusted without a check would allocate gigabytes).
func FuzzLoad(f *testing.F) {
	for _, cfg := range []hnsw.Config{
		{Dim: 3, M: 2, Seed: 1},
		{Dim: 4, M: 3, Seed: 2, Metric: hnsw.Cosine, KeepPruned: true},
		{Dim: 2, M: 2, Seed: 3, Metric: hnsw.InnerProduct},
	} {
		for _, n := range []int{0, 1, 12} {
			_, b := savedIndex(f, cfg, n)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 16 && b[len(b)-5]&1 == 0 {
			b = slices.Clone(b)
			put32(b[len(b)-4:], crc32c(b[:len(b)-4]))
		}
		// The allocation counter of runtime/metrics, read without stopping the world.
		sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
		metrics.Read(sample)
		before := sample[0].Value.Uint64()
		ix, err := hnsw.LoadFrom(bytes.NewReader(b))
		metrics.Read(sample)
		// An index of M = MaxM reserves 64 nodes of 2*MaxM+1 links up front, and each node costs
		// up to (2*MaxM+1)*4 bytes of links for 10 bytes of file: a bounded multiple.
		if alloc := sample[0].Value.Uint64() - before; alloc > 1<<22+2048*uint64(len(b)) {
			t.Fatalf("reading %d bytes allocated %d bytes", len(b), alloc)
		}
		if err != nil {
			if !errors.Is(err, hnsw.ErrCorrupt) && !errors.Is(err, hnsw.ErrVersion) {
				t.Fatalf("error %v matches neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		if err := ix.CheckInvariants(); err != nil {
			t.Fatalf("accepted an inconsistent index: %v", err)
		}
		q := make([]float32, ix.Dim())
		q[0] = 1
		if _, err := ix.Search(q, 3, 8); err != nil && ix.Len() > 0 {
			t.Logf("search: %v", err)
		}
		// Saving is canonical: what an accepted file saves to loads and saves to itself.
		// (The input itself may differ, e.g. in the top level of an index without a live node,
		// which Load ignores.)
		var out, again bytes.Buffer
		if _, err := ix.SaveTo(&out); err != nil {
			t.Fatal(err)
		}
		ix2, err := hnsw.LoadFrom(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("an accepted file saves to one Load refuses: %v", err)
		}
		if _, err := ix2.SaveTo(&again); err != nil || !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("saving a loaded index is not canonical (%v)", err)
		}
	})
}

// TestLoadVersion1Fixture: a file written by the code before the persistence layer was shared
// (testdata/v1.hnsw, commit fa975d6: 60 vectors of dimension 8, Cosine, node 59 deleted) still
// loads, and saves back to the same bytes, since the format did not change.
func TestLoadVersion1Fixture(t *testing.T) {
	path := filepath.Join("testdata", "v1.hnsw")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := hnsw.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 60 || ix.Dim() != 8 || !ix.Deleted(59) || ix.Deleted(58) {
		t.Fatalf("fixture loaded as %d vectors of dimension %d", ix.Len(), ix.Dim())
	}
	if err := ix.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := ix.SaveTo(&out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Errorf("the fixture saves back to different bytes (%v)", err)
	}
}
