package server

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// FuzzDecodeBinary: any body decodes to items or a 4xx error, never a panic, and never an
// allocation sized by an unchecked count (the count is bounded by MaxBatch and records are read
// one at a time).
func FuzzDecodeBinary(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 1))
	f.Add(EncodeBinary(nil, items(rng, "a", 3)))
	f.Add(EncodeBinary(nil, items(rng, "b", 1))[:20])
	f.Add([]byte("GGV1\xff\xff\xff\xff\x08\x00\x00\x00"))
	f.Add([]byte{})
	sv, err := New(Config{Dim: dim, MaxBatch: 64})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		its, err := sv.decodeBinary(bytes.NewReader(b))
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.code < 400 || he.code >= 500 {
				t.Fatalf("error %v is not a 4xx", err)
			}
			return
		}
		if len(its) == 0 || len(its) > 64 {
			t.Fatalf("%d items", len(its))
		}
		for _, it := range its {
			if len(it.Vector) != dim {
				t.Fatalf("vector of %d", len(it.Vector))
			}
		}
	})
}
