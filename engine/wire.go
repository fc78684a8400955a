package engine

import (
	"encoding/binary"
	"fmt"
	"math"
)

// reader decodes a request body: little-endian integers and arrays, each read checked against
// the bytes left, so a short or garbled request is an error naming the field, never a panic.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("request truncated: %s needs %d bytes, %d left", what, n, len(r.b))
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8(what string) uint8 {
	if p := r.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if p := r.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

// count reads a u32 that sizes something, bounded so that a product with it cannot overflow.
func (r *reader) count(what string) int {
	n := r.u32(what)
	if n > 1<<30 && r.err == nil {
		r.err = fmt.Errorf("%s = %d: too large", what, n)
	}
	return int(n)
}

func (r *reader) u64(what string) uint64 {
	if p := r.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (r *reader) f32s(n int, what string) []float32 {
	p := r.take(4*n, what)
	if p == nil {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return out
}

func (r *reader) i32s(n int, what string) []int32 {
	p := r.take(4*n, what)
	if p == nil {
		return nil
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return out
}

// rest returns the remaining bytes (a saved file).
func (r *reader) rest() []byte {
	p := r.b
	r.b = nil
	return p
}

// done reports a decoding error, or bytes left over (a request that does not match its op).
func (r *reader) done(op string) error {
	if r.err != nil {
		return fmt.Errorf("%s: %w", op, r.err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%s: %d bytes left over at the end of the request", op, len(r.b))
	}
	return nil
}

// writer encodes a response body.
type writer struct{ b []byte }

func (w *writer) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

func (w *writer) f32s(v []float32) {
	for _, x := range v {
		w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(x))
	}
}

func (w *writer) i32s(v []int32) {
	for _, x := range v {
		w.b = binary.LittleEndian.AppendUint32(w.b, uint32(x))
	}
}
