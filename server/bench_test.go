package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
)

// BenchmarkSearchHandler is one POST /v1/search through the handler (no network), plain or
// re-ranked, over 2000 vectors of dimension 128: its allocations are the server's per request.
func BenchmarkSearchHandler(b *testing.B) {
	for _, mode := range []string{"plain", "reranked"} {
		b.Run(mode, func(b *testing.B) {
			const d = 128
			sv, err := New(Config{Dim: d})
			if err != nil {
				b.Fatal(err)
			}
			defer sv.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			v := func() []float32 {
				x := make([]float32, d)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				return x
			}
			its := make([]Item, 2000)
			for i := range its {
				its[i] = Item{ID: fmt.Sprintf("v%d", i), Vector: v()}
			}
			if _, err := sv.Add(its); err != nil {
				b.Fatal(err)
			}
			body, _ := json.Marshal(SearchRequest{Vector: v(), K: 10, Mode: mode})
			h := sv.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("POST", "/v1/search", bytes.NewReader(body)))
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
