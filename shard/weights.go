package shard

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gnnlab/gognn/search"
)

// Weights travel as binary chunks that fit NATS's payload limit (a model over 1433-dimensional
// vectors is 1.5 MB of float32s, the default limit 1 MB). A chunk, little-endian: version int64,
// tensor count uint32, tensor index uint32, tensor length uint32, offset uint32, then float32
// values. One publisher's messages arrive in order, and a newer version replaces an unfinished
// older one.
const chunkHeader = 24

// weightChunks encodes w in chunks of at most limit bytes.
func weightChunks(w search.Weights, limit int) [][]byte {
	per := max(1, (limit-chunkHeader)/4)
	var out [][]byte
	for t, data := range w.Tensors {
		for off := 0; off == 0 || off < len(data); off += per {
			part := data[off:min(off+per, len(data))]
			b := make([]byte, chunkHeader, chunkHeader+4*len(part))
			binary.LittleEndian.PutUint64(b[0:], uint64(w.Version))
			binary.LittleEndian.PutUint32(b[8:], uint32(len(w.Tensors)))
			binary.LittleEndian.PutUint32(b[12:], uint32(t))
			binary.LittleEndian.PutUint32(b[16:], uint32(len(data)))
			binary.LittleEndian.PutUint32(b[20:], uint32(off))
			for _, x := range part {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
			out = append(out, b)
		}
	}
	return out
}

// weightsAssembler rebuilds Weights from chunks (one goroutine: a NATS subscription's). sizes
// are the tensor lengths of the receiving index's model (search.Weights of the same model have
// the same); a chunk announcing other sizes is refused, so no message can make the assembler
// allocate more than the model it replaces.
type weightsAssembler struct {
	sizes []int
	w     search.Weights
}

// newWeightsAssembler returns an assembler for weights shaped as w.
func newWeightsAssembler(w search.Weights) *weightsAssembler {
	a := &weightsAssembler{}
	for _, t := range w.Tensors {
		a.sizes = append(a.sizes, len(t))
	}
	return a
}

// add takes one chunk and returns the weights once every value of their version arrived.
func (a *weightsAssembler) add(b []byte) (search.Weights, bool, error) {
	if len(b) < chunkHeader || (len(b)-chunkHeader)%4 != 0 {
		return search.Weights{}, false, fmt.Errorf("weights chunk of %d bytes", len(b))
	}
	ver := int64(binary.LittleEndian.Uint64(b[0:]))
	nt := int(binary.LittleEndian.Uint32(b[8:]))
	t := int(binary.LittleEndian.Uint32(b[12:]))
	size := int(binary.LittleEndian.Uint32(b[16:]))
	off := int(binary.LittleEndian.Uint32(b[20:]))
	vals := (len(b) - chunkHeader) / 4
	if nt != len(a.sizes) || t >= nt || size != a.sizes[t] || off > size || vals > size-off {
		return search.Weights{}, false, fmt.Errorf("weights chunk: tensor %d of %d, %d values at %d of %d; the model has %d tensors of sizes %v", t, nt, vals, off, size, len(a.sizes), a.sizes)
	}
	if a.w.Tensors == nil || a.w.Version != ver || len(a.w.Tensors) != nt {
		a.w = search.Weights{Version: ver, Tensors: make([][]float32, nt)}
	}
	if a.w.Tensors[t] == nil {
		a.w.Tensors[t] = make([]float32, size)
	}
	for i := range vals {
		a.w.Tensors[t][off+i] = math.Float32frombits(binary.LittleEndian.Uint32(b[chunkHeader+4*i:]))
	}
	// Chunks come in order: the last chunk of the last tensor completes the version.
	if t == nt-1 && off+vals == size {
		w := a.w
		a.w = search.Weights{}
		for _, x := range w.Tensors {
			if x == nil {
				return search.Weights{}, false, fmt.Errorf("weights version %d: a tensor is missing", ver)
			}
		}
		return w, true, nil
	}
	return search.Weights{}, false, nil
}
