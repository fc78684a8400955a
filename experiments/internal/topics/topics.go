// Package topics generates the search experiments' synthetic corpus: unit vectors that are noisy
// views of latent topics, the topic being the hidden relevance label.
package topics

import (
	"math"
	"math/rand/v2"
)

// Corpus returns n unit vectors of dimension dim and the topic of each: topics unit-norm centres
// with Gaussian coordinates, then for each vector a topic drawn uniformly and its centre plus
// Gaussian noise of standard deviation noise per coordinate, normalised. The same arguments give
// the same corpus on every machine.
func Corpus(n, dim, topics int, noise float64, seed uint64) (vecs [][]float32, topic []int) {
	rng := rand.New(rand.NewPCG(seed, 0x5971e7))
	gauss := func(scale float64) []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	centres := make([][]float32, topics)
	for t := range centres {
		for centres[t] == nil {
			centres[t] = Unit(gauss(1))
		}
	}
	vecs, topic = make([][]float32, n), make([]int, n)
	for i := range vecs {
		t := rng.IntN(topics)
		v := gauss(noise)
		for j := range v {
			v[j] += centres[t][j]
		}
		vecs[i], topic[i] = Unit(v), t
	}
	return vecs, topic
}

// Unit returns v scaled to unit length (computed in float64), or nil for a zero vector.
func Unit(v []float32) []float32 {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	if sq == 0 {
		return nil
	}
	inv := 1 / math.Sqrt(sq)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}
