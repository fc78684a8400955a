package modelfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// hostLittleEndian reports whether the CPU stores numbers as the files do, so slices of a
// mapping can be handed out as []float32 without decoding.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Mapped is a model file mapped read-only into memory. Its methods may be called concurrently;
// the slices they return stay valid until Close, and writing to a slice of the mapping faults.
type Mapped struct {
	File
	path   string
	data   mmap.MMap
	mapped bool // data is a mapping (else memory of the heap)
	index  map[string]int
}

// Map maps the model file at path read-only and checks it as Read does, including every
// checksum, which reads each page once. The data stays in the file's pages: Float32 returns
// float32 tensors without copying them.
//
// Where the system cannot map files (GOOS=js, wasip1, or a file system without mmap), Map
// reads the file into memory instead and everything else behaves the same (IsMapped reports
// false). MapStrict is Map for a caller that needs the mapping: it returns an error naming
// why mapping is unavailable instead of reading.
func Map(path string) (*Mapped, error) { return mapModel(path, false) }

// MapStrict is Map without the fallback to reading: mmap or an error with the reason.
func MapStrict(path string) (*Mapped, error) { return mapModel(path, true) }

// MapBytes checks data, a whole model file in memory, as Map checks a file and returns a
// Mapped that views it (no copy, unless data does not start 8-byte aligned). data must not be
// changed while the Mapped is in use. It serves where files cannot be mapped (a browser).
func MapBytes(data []byte) (*Mapped, error) {
	if len(data) > 0 && uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
		b := alignedBytes(len(data))
		copy(b, data)
		data = b
	}
	return checkMapped("bytes", data, int64(len(data)))
}

// IsMapped reports whether the data is a mapping of the file (false where Map fell back to
// reading, and for MapBytes).
func (m *Mapped) IsMapped() bool { return m.mapped }

func mapModel(path string, strict bool) (*Mapped, error) {
	data, mapped, size, err := mapFile(path, strict)
	if err != nil {
		return nil, err
	}
	m, err := checkMapped(path, data, size)
	if err != nil {
		if mapped {
			data.Unmap()
		}
		return nil, err
	}
	m.mapped = mapped
	return m, nil
}

// mmapFile is mmap.Map; tests make it fail.
var mmapFile = mmap.Map

// alignedBytes returns n zero bytes starting 8-byte aligned, so that float32 and uint16 views
// of them are aligned.
func alignedBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// mapFile maps the whole file at path read-only; an empty file gives a nil mapping. Where
// mapping is unsupported it reads the file into aligned memory (mapped false), unless strict.
func mapFile(path string, strict bool) (data mmap.MMap, mapped bool, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, 0, fmt.Errorf("modelfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, 0, fmt.Errorf("modelfile: %w", err)
	}
	size = st.Size()
	if size == 0 {
		return nil, false, 0, nil // mmap refuses empty files; the caller reports the size
	}
	if int64(int(size)) != size {
		return nil, false, 0, fmt.Errorf("modelfile: %s: %d bytes do not fit in this process's address space", path, size)
	}
	data, err = mmapFile(f, mmap.RDONLY, 0)
	switch {
	case err == nil:
		return data, true, size, nil
	case !errors.Is(err, errors.ErrUnsupported):
		return nil, false, 0, fmt.Errorf("modelfile: mmap %s: %w", path, err)
	case strict:
		return nil, false, 0, fmt.Errorf("modelfile: mmap %s: memory mapping is unavailable on %s/%s (%w); Map or Read read the file instead", path, runtime.GOOS, runtime.GOARCH, err)
	}
	b := alignedBytes(int(size))
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, false, 0, fmt.Errorf("modelfile: reading %s: %w", path, err)
	}
	return b, false, size, nil
}

func checkMapped(path string, data mmap.MMap, size int64) (*Mapped, error) {
	hlen, crc, err := parsePrefix(path, data, size)
	if err != nil {
		return nil, err
	}
	file, err := parseHeader(path, data[prefixSize:prefixSize+hlen], crc, size)
	if err != nil {
		return nil, err
	}
	m := &Mapped{File: *file, path: path, data: data, index: make(map[string]int, len(file.Tensors))}
	pos := prefixSize + hlen
	for i, t := range file.Tensors {
		if err := checkTensor(path, t, data[pos:t.Offset], data[t.Offset:t.Offset+t.Length]); err != nil {
			return nil, err
		}
		m.index[t.Name] = i
		pos = t.Offset + t.Length
	}
	return m, nil
}

// Close unmaps the file. Slices returned by the other methods must not be used afterwards.
func (m *Mapped) Close() error {
	if m.data == nil || !m.mapped {
		m.data = nil
		return nil
	}
	return m.data.Unmap()
}

func (m *Mapped) lookup(name string) (Info, []byte, error) {
	i, ok := m.index[name]
	if !ok {
		return Info{}, nil, fmt.Errorf("modelfile: %s: no tensor called %s", m.path, name)
	}
	t := m.Tensors[i]
	return t, m.data[t.Offset : t.Offset+t.Length : t.Offset+t.Length], nil
}

// Float32 returns the tensor called name as float32 values. A float32 tensor is returned as a
// slice of the mapping itself, without copying (read-only; valid until Close); a float16 or
// int8 tensor is converted into a new slice, as Read does.
func (m *Mapped) Float32(name string) ([]float32, error) {
	t, b, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.DType == Float32 && hostLittleEndian {
		return float32s(b), nil
	}
	return decode(t, b), nil
}

// Float16 returns the half-precision bits of the float16 tensor called name, a slice of the
// mapping (a copy on a big-endian CPU).
func (m *Mapped) Float16(name string) ([]uint16, error) {
	t, b, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.DType != Float16 {
		return nil, fmt.Errorf("modelfile: %s: tensor %s is %s, not float16", m.path, name, t.DType)
	}
	if len(b) == 0 {
		return []uint16{}, nil
	}
	if hostLittleEndian {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2), nil
	}
	h := make([]uint16, len(b)/2)
	for i := range h {
		h[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return h, nil
}

// Int8 returns the codes (row-major, shape Shape) and per-column scales of the int8 tensor
// called name, for quant.MatMulInt8 or quant.DequantizeInt8: slices of the mapping (the scales
// are a copy on a big-endian CPU).
func (m *Mapped) Int8(name string) (q []int8, scales []float32, err error) {
	t, b, err := m.lookup(name)
	if err != nil {
		return nil, nil, err
	}
	if t.DType != Int8 {
		return nil, nil, fmt.Errorf("modelfile: %s: tensor %s is %s, not int8", m.path, name, t.DType)
	}
	cols := t.Shape[1]
	if hostLittleEndian {
		scales = float32s(b[:4*cols])
	} else {
		scales = make([]float32, cols)
		for c := range scales {
			scales[c] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*c:]))
		}
	}
	return int8s(b[4*cols:]), scales, nil
}

// float32s views b, whose start is 4-byte aligned, as float32s in host order.
func float32s(b []byte) []float32 {
	if len(b) == 0 {
		return []float32{}
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}
