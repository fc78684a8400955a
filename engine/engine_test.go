package engine

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// req builds a request from an op and fields: uint8, uint32, uint64, []float32, []int32, []byte.
func req(op byte, fields ...any) []byte {
	b := []byte{op}
	for _, f := range fields {
		switch v := f.(type) {
		case uint8:
			b = append(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case int:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, v)
		case []float32:
			for _, x := range v {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		case []int32:
			for _, x := range v {
				b = binary.LittleEndian.AppendUint32(b, uint32(x))
			}
		case []byte:
			b = append(b, v...)
		default:
			panic(f)
		}
	}
	return b
}

func ok(t *testing.T, e *Engine, r []byte) []byte {
	t.Helper()
	resp := e.Call(r)
	if resp[0] != StatusOK {
		t.Fatalf("op %d: %s", r[0], resp[1:])
	}
	return resp[1:]
}

func fails(t *testing.T, e *Engine, r []byte, want string) {
	t.Helper()
	resp := e.Call(r)
	if resp[0] != StatusError || !strings.Contains(string(resp[1:]), want) {
		t.Fatalf("op %d: got status %d %q, want an error containing %q", r[0], resp[0], resp[1:], want)
	}
}

func randomVectors(n, dim int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func create(t *testing.T, e *Engine, dim int, metric, learn uint8) uint32 {
	t.Helper()
	return binary.LittleEndian.Uint32(ok(t, e, req(OpCreateIndex, dim, metric, learn, 16, 100, uint64(1), 0)))
}

// searchIDs searches and returns the ids.
func searchIDs(t *testing.T, e *Engine, h uint32, k int, qs []float32) []int32 {
	t.Helper()
	out := ok(t, e, req(OpSearch, h, k, 64, 0, len(qs), qs))
	nq, kk := binary.LittleEndian.Uint32(out), binary.LittleEndian.Uint32(out[4:])
	ids := make([]int32, nq*kk)
	for i := range ids {
		ids[i] = int32(binary.LittleEndian.Uint32(out[8+4*i:]))
	}
	return ids
}

func TestRoundTrip(t *testing.T) {
	const dim = 8
	for _, tc := range []struct {
		name          string
		metric, learn uint8
	}{{"search", 1, 1}, {"hnsw", 0, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			e := New()
			h := create(t, e, dim, tc.metric, tc.learn)
			data := randomVectors(300, dim, 1)
			if got := ok(t, e, req(OpAdd, h, len(data), data)); len(got) != 4*300 {
				t.Fatalf("add returned %d bytes", len(got))
			}
			ids := searchIDs(t, e, h, 3, data[:20*dim])
			for q := 0; q < 20; q++ {
				if ids[q*3] != int32(q) {
					t.Fatalf("query %d: nearest %d, want itself", q, ids[q*3])
				}
			}
			saved := ok(t, e, req(OpSave, h))
			h2 := binary.LittleEndian.Uint32(ok(t, e, req(OpLoad, saved)))
			if got := searchIDs(t, e, h2, 3, data[:20*dim]); !equal(got, ids) {
				t.Fatalf("loaded index: %v, saved one %v", got, ids)
			}
			ok(t, e, req(OpClose, h))
			fails(t, e, req(OpSearch, h, 3, 64, 0, dim, data[:dim]), "handle 1 is closed")
			fails(t, e, req(OpClose, h), "closed")
		})
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadInput(t *testing.T) {
	const dim = 4
	e := New()
	h := create(t, e, dim, 1, 1)
	ok(t, e, req(OpAdd, h, 3*dim, randomVectors(3, dim, 2)))
	nan := []float32{1, float32(math.NaN()), 0, 0}
	fails(t, e, req(OpAdd, h, len(nan), nan), "vector 0 has NaN at position 1")
	fails(t, e, req(OpAdd, h, 5, randomVectors(5, 1, 3)), "not a whole number of vectors of dimension 4")
	fails(t, e, req(OpAdd, h, 8, randomVectors(1, 4, 3)), "request truncated")
	fails(t, e, req(OpStats, h, uint8(0)), "left over")
	fails(t, e, req(99), "unknown op 99")
	fails(t, e, nil, "empty request")
	fails(t, e, req(OpLoad, []byte("GOGNNsix garbage")), "load:")
	fails(t, e, req(OpLoad, []byte("nothing")), "not a saved index")
	fails(t, e, req(OpCreateIndex, dim, uint8(0), uint8(1), 16, 100, uint64(1), 0), "cosine")
	p := create(t, e, dim, 0, 0)
	fails(t, e, req(OpTrain, p), "plain HNSW index")
	fails(t, e, req(OpEmbed, h, 1, 0, 1, []int32{0, 0}, []float32{1}), "is an index, not a model")
	fails(t, e, req(OpSearch, h, 808464432, 10, 0, dim, randomVectors(1, dim, 4)), "more than the 3 vectors")
}

// FuzzCall: no request makes the engine panic or stop answering.
func FuzzCall(f *testing.F) {
	f.Add(req(OpCreateIndex, 4, uint8(1), uint8(1), 16, 100, uint64(1), 0))
	f.Add(req(OpAdd, 1, 4, []float32{1, 2, 3, 4}))
	f.Add(req(OpSearch, 1, 1, 10, 0, 4, []float32{1, 2, 3, 4}))
	f.Add(req(OpEmbed, 1, 1, 0, 1, []int32{0, 0}, []float32{1}))
	f.Add(req(OpLoad, []byte("HNSWgogn")))
	f.Fuzz(func(t *testing.T, b []byte) {
		e := New()
		create(t, e, 4, 1, 1)
		resp := e.Call(b)
		if len(resp) == 0 || resp[0] > StatusError {
			t.Fatalf("response %v", resp)
		}
	})
}
