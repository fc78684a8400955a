// Package modelfile stores the weights of any model of the framework in one file format, reads
// them back into float32, and memory-maps them; it also stores large float32 matrices (node
// features, embeddings) that are mapped rather than read, so they can be bigger than RAM.
//
// # Model files
//
// Write takes a model's float32 master weights as named tensors, a free-form architecture value
// (anything encoding/json encodes: the hyper-parameters a loader needs to rebuild the model
// without knowing it in advance) and a precision:
//
//	fp32  every tensor as float32, exactly
//	fp16  every tensor as IEEE 754 half precision (package quant); a finite value beyond
//	      ±65504 is an error, not an infinity
//	int8  matrices (rank 2, both dimensions > 1) as INT8 with one scale per output channel
//	      (column; package quant); vectors, scalars and other ranks (biases, attention vectors
//	      of shape (n, 1)) stay float32, since they are small and sensitive to error
//
// A file is little endian throughout:
//
//	offset   size  field
//	0        8     magic "GOGNNMDL"
//	8        4     format version, uint32 (Version = 1)
//	12       4     header length H, uint32, 2 <= H <= MaxHeader
//	16       4     CRC-32C (Castagnoli) of the H header bytes, uint32
//	20       H     header: JSON, see below
//	20+H     ...   zero bytes up to the first tensor
//	off[i]   n[i]  tensor i's data; off[i] is a multiple of 64 (Align) and at least the end
//	               of the previous tensor; the bytes in between are zero
//	                 float32: 4 bytes per value
//	                 float16: 2 bytes per value (binary16 bits)
//	                 int8:    shape (rows, cols): cols float32 scales, then rows*cols int8
//	                          codes; value[r,c] = code[r,c] * scale[c]
//	                 values in row-major order of the shape
//	end            the file ends with the last tensor (or the header, with no tensors)
//
// The header is one JSON object, with no other fields:
//
//	{
//	  "precision": "int8",
//	  "architecture": {"model": "gcn", "in": 1433, "hidden": 16, "classes": 7},
//	  "tensors": [
//	    {"name": "conv1.lin.weight", "dtype": "int8", "shape": [1433, 16],
//	     "offset": 576, "length": 22992, "crc32c": 1234567890},
//	    ...
//	  ]
//	}
//
// with "crc32c" the CRC-32C of the tensor's n[i] data bytes (scales included). Tensor names
// are unique and non-empty; shapes have non-negative dimensions; dtype is "float32", "float16"
// or "int8" (int8 only for shape (rows, cols)).
//
// Read and Map check everything before returning any value: magic, version (a file of another
// version is refused with a *VersionError naming it and the supported versions, wrapping
// ErrVersion), the header length against the file size, the JSON, dtypes, shapes against byte
// lengths (without overflow), offsets (in range, aligned, in order, not overlapping), zero
// padding, the header checksum and every tensor's checksum (a *ChecksumError naming the tensor
// or the header, wrapping ErrChecksum), so a flipped byte anywhere in a file is reported. Every
// error about a damaged file wraps ErrFormat (the module-wide ErrCorrupt); a truncated file is
// a *TruncatedError (ErrTruncated), a wrong magic a *MagicError (ErrMagic). Read dequantises to
// float32; Map leaves the data in the mapping: Mapped.Float32 returns a float32 tensor as a
// slice of the mapping (64-byte aligned, no copy) and dequantises the others into new slices,
// and Mapped.Int8 and Mapped.Float16 return the stored codes as slices of the mapping, for
// quant.MatMulInt8 on weights that are never expanded to float32.
//
// # Streams, bytes and systems without mmap
//
// WriteTo and ReadFrom are Write and Read on an io.Writer and io.Reader (the same bytes, checks
// and errors), and MapBytes is Map of a file already in memory; they serve where there are no
// files, as in a browser. Where the system cannot map files (GOOS=js, wasip1, a file system
// without mmap), Map and OpenMatrix read the file into memory instead and behave the same
// (Mapped.IsMapped reports which happened); MapStrict and OpenMatrixStrict, for a caller that
// needs the mapping, return an error naming why mapping is unavailable instead.
//
// # Matrix files
//
// A matrix file holds one float32 matrix, row-major, behind a fixed 64-byte header:
//
//	offset  size         field
//	0       8            magic "GOGNNMAT"
//	8       4            format version, uint32 (MatrixVersion = 1)
//	12      4            element type, uint32: 1 = float32
//	16      8            rows, uint64
//	24      8            cols, uint64
//	32      4            CRC-32C of bytes 0..31, uint32
//	36      28           zero
//	64      rows*cols*4  the values, row-major, little endian
//
// and nothing after them. WriteMatrix streams the rows to disk, so a matrix never has to fit in
// memory; OpenMatrix maps it read-only and Row and Data return slices of the mapping, which the
// gather kernels of package ops/asm read directly. The header is checked on open, the data is
// not: a checksum would mean reading the whole file, which is what mapping avoids.
//
// The pages of a mapping that the process has touched count in its resident set (RSS) although
// they belong to the kernel's page cache: they are clean, so under memory pressure the kernel
// drops them and reads them again later instead of failing. A matrix larger than RAM therefore
// works as long as each pass touches what fits. Matrix.Release unmaps the touched pages
// (madvise MADV_DONTNEED) to bound the resident set explicitly, at the price of faulting them
// in again; on Linux 6.18, where one fault can map a whole large folio of the page cache (1 MiB
// and more), that price is high for scattered reads (see experiments/mmapdemo).
//
// Every file is written atomically (package internal/atomicfile): to a temporary file in the
// same directory, synced, then renamed over the destination and the directory synced, so a
// failed write leaves any previous file untouched. Mapped data is read-only: writing to a slice of a mapping faults.
package modelfile
