// Package vecio reads and writes the TEXMEX vector formats used by ANN benchmarks (SIFT, GIST,
// Deep1B, BIGANN) and provides what an evaluation needs around them: exact brute-force ground
// truth, recall, and a seeded generator of clustered data.
//
// Each format is a sequence of records, one per vector, with no header: a little-endian int32
// dimension d followed by d elements,
//
//	.fvecs  d float32 (IEEE 754, little endian)
//	.ivecs  d int32 (ground-truth neighbour ids)
//	.bvecs  d uint8 (BIGANN)
//
// Every record of a file must have the same dimension, 1 <= d <= MaxDim. Readers return the
// vectors as one flat row-major slice (vector i at [i*dim, (i+1)*dim)); Reader streams them one
// at a time. A file that breaks the format (bad or changing dimension, truncated record) gives an
// error wrapping ErrFormat that names the record and its byte offset. Writers write atomically:
// a temporary file in the same directory, fsync, rename.
package vecio
