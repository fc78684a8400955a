//go:build !gognn_serve

package search

import (
	"slices"
	"testing"
)

// The build without Gorgonia (tag gognn_serve) initialises the parameters with initParams; a
// new index must start from the same weights in both builds.
func TestInitParamsAgrees(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42} {
		base, err := newTrainContext(seed)
		if err != nil {
			t.Fatal(err)
		}
		want, err := newParams(base, 12, 5)
		if err != nil {
			t.Fatal(err)
		}
		got := initParams(seed, 12, 5)
		for i := range want {
			if got[i].Name != want[i].Name || !slices.Equal(got[i].Shape, want[i].Shape) || !slices.Equal(got[i].Data, want[i].Data) {
				t.Fatalf("seed %d: parameter %d: initParams gives %s %v, newParams %s %v", seed, i, got[i].Name, got[i].Shape, want[i].Name, want[i].Shape)
			}
		}
	}
}
