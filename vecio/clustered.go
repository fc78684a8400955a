package vecio

import "math/rand/v2"

// Clustered returns n vectors of dimension dim (row-major) drawn from Gaussian blobs: clusters
// centres with coordinates drawn from N(0, 1), then for each vector a centre c chosen uniformly
// and x = c + spread * z, z ~ N(0, I). The generator is PCG seeded with seed, so the output is the
// same on every machine.
//
// The centres are drawn first and the vectors one after another, so Clustered(n+m, ...) with the
// same seed begins with Clustered(n, ...): to draw queries from the same distribution as a base
// set, generate n+m vectors and split them. n <= 0 or dim <= 0 gives nil; clusters < 1 is taken
// as 1.
func Clustered(n, dim, clusters int, spread float32, seed uint64) []float32 {
	if n <= 0 || dim <= 0 {
		return nil
	}
	clusters = max(clusters, 1)
	rng := rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb))
	centres := make([]float64, clusters*dim)
	for i := range centres {
		centres[i] = rng.NormFloat64()
	}
	out := make([]float32, n*dim)
	s := float64(spread)
	for i := 0; i < n; i++ {
		c := centres[rng.IntN(clusters)*dim:]
		x := out[i*dim : (i+1)*dim]
		for j := range x {
			x[j] = float32(c[j] + s*rng.NormFloat64())
		}
	}
	return out
}
