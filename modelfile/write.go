package modelfile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/internal/persist"
	"github.com/gnnlab/gognn/quant"
)

// Write stores tensors, in the order given, and architecture (any value encoding/json encodes,
// nil included) at path in precision p, replacing the file atomically: on any error an existing
// file at path is left as it was.
//
// Tensor names must be unique and non-empty and len(Data) must equal the product of Shape. With
// FP16 every value must be within ±65504 or infinite or NaN (a finite value that would round to
// infinity is an error naming the tensor); with INT8 the values of matrices must be finite. See
// the package comment for which tensors INT8 quantises.
func Write(path string, architecture any, tensors []Tensor, p Precision) error {
	emit, err := encoder("write "+path, architecture, tensors, p)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, emit)
}

// WriteTo writes the model file that Write would store (the same bytes) to w.
func WriteTo(w io.Writer, architecture any, tensors []Tensor, p Precision) error {
	emit, err := encoder("WriteTo", architecture, tensors, p)
	if err != nil {
		return err
	}
	return emit(w)
}

// encoder checks and converts the tensors and returns the function that writes the file; what
// names the operation in errors ("write <path>").
func encoder(what string, architecture any, tensors []Tensor, p Precision) (func(io.Writer) error, error) {
	path := what
	if !p.valid() {
		return nil, fmt.Errorf("modelfile: %s: precision %q, want fp32, fp16 or int8", path, p)
	}
	arch, err := json.Marshal(architecture)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %s: architecture: %w", path, err)
	}
	payloads := make([]payload, len(tensors))
	infos := make([]Info, len(tensors))
	seen := make(map[string]bool, len(tensors))
	for i, t := range tensors {
		if t.Name == "" {
			return nil, fmt.Errorf("modelfile: %s: tensor %d has no name", path, i)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("modelfile: %s: two tensors are called %s", path, t.Name)
		}
		seen[t.Name] = true
		n, ok := numValues(t.Shape)
		if !ok {
			return nil, fmt.Errorf("modelfile: %s: tensor %s: shape %v has a negative dimension or too many values", path, t.Name, t.Shape)
		}
		if len(t.Data) != n {
			return nil, fmt.Errorf("modelfile: %s: tensor %s: shape %v holds %d values, Data has %d", path, t.Name, t.Shape, n, len(t.Data))
		}
		pl, err := prepare(t, p)
		if err != nil {
			return nil, fmt.Errorf("modelfile: %s: tensor %s: %w", path, t.Name, err)
		}
		payloads[i] = pl
		length, _ := dataLength(pl.dt, t.Shape, n)
		crc := uint32(0)
		pl.encode(func(b []byte) error {
			crc = persist.Update(crc, b)
			return nil
		})
		infos[i] = Info{Name: t.Name, DType: pl.dt, Shape: slices.Clone(t.Shape), Length: length, CRC32C: crc}
		if infos[i].Shape == nil {
			infos[i].Shape = []int{}
		}
	}

	// The offsets depend on the header's length and the header holds the offsets: start the
	// data after a guess and move it until the header fits before it.
	start := int64(alignUp(prefixSize + 2))
	var hdr []byte
	for {
		off := start
		for i := range infos {
			infos[i].Offset = off
			off = alignUp(off + infos[i].Length)
		}
		hdr, err = json.Marshal(header{Precision: p, Architecture: arch, Tensors: infos})
		if err != nil {
			return nil, fmt.Errorf("modelfile: %s: header: %w", path, err)
		}
		if len(hdr) > MaxHeader {
			return nil, fmt.Errorf("modelfile: %s: header of %d bytes exceeds %d; fewer tensors or a smaller architecture", path, len(hdr), MaxHeader)
		}
		need := alignUp(prefixSize + int64(len(hdr)))
		if need <= start {
			break
		}
		start = need
	}

	return func(w io.Writer) error {
		w = wrapWriter(w)
		var prefix [prefixSize]byte
		copy(prefix[:], Magic)
		binary.LittleEndian.PutUint32(prefix[8:], Version)
		binary.LittleEndian.PutUint32(prefix[12:], uint32(len(hdr)))
		binary.LittleEndian.PutUint32(prefix[16:], persist.Checksum(hdr))
		if _, err := w.Write(prefix[:]); err != nil {
			return fmt.Errorf("modelfile: %s: %w", path, err)
		}
		if _, err := w.Write(hdr); err != nil {
			return fmt.Errorf("modelfile: %s: %w", path, err)
		}
		pos := prefixSize + int64(len(hdr))
		for i, t := range infos {
			if err := writeZeros(w, t.Offset-pos); err != nil {
				return fmt.Errorf("modelfile: %s: %w", path, err)
			}
			if err := payloads[i].encode(func(b []byte) error {
				_, err := w.Write(b)
				return err
			}); err != nil {
				return fmt.Errorf("modelfile: %s: tensor %s: %w", path, t.Name, err)
			}
			pos = t.Offset + t.Length
		}
		return nil
	}, nil
}

// wrapWriter lets tests make the output fail part-way.
var wrapWriter = func(w io.Writer) io.Writer { return w }

func writeZeros(w io.Writer, n int64) error {
	var zeros [Align]byte
	for n > 0 {
		k := min(n, Align)
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func alignUp(n int64) int64 { return (n + Align - 1) &^ (Align - 1) }

// payload is one tensor's data as stored.
type payload struct {
	dt     DType
	f32    []float32 // Float32
	f16    []uint16  // Float16
	q      []int8    // Int8 codes
	scales []float32 // Int8 scales
}

// prepare converts t to the dtype precision p stores it in.
func prepare(t Tensor, p Precision) (payload, error) {
	switch {
	case p == FP16:
		if i := quant.Float16Overflow(t.Data); i >= 0 {
			return payload{}, fmt.Errorf("value %g at index %d is beyond the float16 range ±%d; write fp32, or rescale", t.Data[i], i, quant.MaxFloat16)
		}
		h := make([]uint16, len(t.Data))
		quant.ToFloat16(h, t.Data)
		return payload{dt: Float16, f16: h}, nil
	case p == INT8 && isMatrix(t.Shape):
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return payload{}, fmt.Errorf("value %v at index %d: int8 quantisation needs finite values", v, i)
			}
		}
		q, s := quant.QuantizeInt8(t.Data, t.Shape[0], t.Shape[1])
		return payload{dt: Int8, q: q, scales: s}, nil
	}
	return payload{dt: Float32, f32: t.Data}, nil
}

// encode passes the stored bytes to emit in chunks.
func (p *payload) encode(emit func([]byte) error) error {
	const chunk = 1 << 16
	buf := make([]byte, 0, chunk)
	flush := func() error {
		err := emit(buf)
		buf = buf[:0]
		return err
	}
	put32 := func(vs []float32) error {
		for _, v := range vs {
			if len(buf)+4 > chunk {
				if err := flush(); err != nil {
					return err
				}
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		return nil
	}
	switch p.dt {
	case Float32:
		if err := put32(p.f32); err != nil {
			return err
		}
	case Float16:
		for _, h := range p.f16 {
			if len(buf)+2 > chunk {
				if err := flush(); err != nil {
					return err
				}
			}
			buf = binary.LittleEndian.AppendUint16(buf, h)
		}
	case Int8:
		if err := put32(p.scales); err != nil {
			return err
		}
		for _, v := range p.q {
			if len(buf) == chunk {
				if err := flush(); err != nil {
					return err
				}
			}
			buf = append(buf, byte(v))
		}
	}
	if len(buf) == 0 {
		return nil
	}
	return flush()
}
