package hnsw

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/gnnlab/gognn/internal/persist"
)

// File format, version 1. All integers little endian.
//
//	magic    8 bytes "HNSWgogn"
//	version  uint32 (1)
//	config   Dim, Metric, M, EfConstruction, EfSearch, flags (bit 0: KeepPruned) as uint32; Seed uint64
//	rng      uint32 length, then the level generator's state (math/rand/v2 PCG MarshalBinary)
//	counts   n uint64 (ids), deleted uint64, entry int32 (-1: none), top level uint32
//	levels   n bytes: top layer of each node
//	flags    n bytes: 1 for a tombstone, else 0
//	vectors  n*Dim float32 (IEEE 754 bits), as stored (normalised for Cosine)
//	lists    for each node i, for each layer l = 0..level(i): count uint32, then count uint32 ids
//	crc      uint32 CRC-32C (Castagnoli) of every byte before it
//
// The magic, version and checksum are the framing of package internal/persist.
const (
	fileMagic   = "HNSWgogn"
	fileVersion = 1
	fileFormat  = "an hnsw index file"
)

// Errors of Load and LoadFrom, shared with the module's other file formats (search,
// modelfile, models, datasets), so that errors.Is and errors.As work across packages:
// ErrCorrupt matches every damaged or inconsistent file (and ErrChecksum, ErrTruncated and
// ErrMagic narrow it down), ErrVersion a file of a version this build does not read, and a
// *VersionError carries the found and supported versions.
var (
	ErrCorrupt   = persist.ErrCorrupt
	ErrChecksum  = persist.ErrChecksum
	ErrTruncated = persist.ErrTruncated
	ErrMagic     = persist.ErrMagic
	ErrVersion   = persist.ErrVersion
)

// The typed errors behind the sentinels, for errors.As.
type (
	ChecksumError  = persist.ChecksumError
	TruncatedError = persist.TruncatedError
	MagicError     = persist.MagicError
	VersionError   = persist.VersionError
)

// Save writes the index to path atomically: it writes a temporary file in the same directory,
// syncs it to disk and renames it over path, then syncs the directory, so a crash leaves
// either the old file or the new one (package internal/atomicfile; an error wrapping
// its ErrDirSync means the new file is in place but the rename may not survive a crash).
// Searches may run during Save; Add and Delete wait for it. See Load for reading it back; the
// level generator's state is saved too, so a loaded index continues a build exactly as the
// original would.
func (ix *Index) Save(path string) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if err := persist.WriteFile(path, fileMagic, fileVersion, ix.encode); err != nil {
		return fmt.Errorf("hnsw: Save %s: %w", path, err)
	}
	return nil
}

// SaveTo writes the index to w in the format of Save (the same bytes) and returns the number
// of bytes written. Searches may run during SaveTo; Add and Delete wait for it.
func (ix *Index) SaveTo(w io.Writer) (int64, error) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	n, err := persist.Frame(w, fileMagic, fileVersion, ix.encode)
	if err != nil {
		return n, fmt.Errorf("hnsw: SaveTo: %w", err)
	}
	return n, nil
}

// encode writes the body: everything between the version and the checksum (writer lock held).
func (ix *Index) encode(w *persist.Writer) error {
	le := binary.LittleEndian
	b := make([]byte, 0, 1<<12)
	cfg := ix.cfg
	var flags uint32
	if cfg.KeepPruned {
		flags |= 1
	}
	for _, v := range []int{cfg.Dim, int(cfg.Metric), cfg.M, cfg.EfConstruction, cfg.EfSearch, int(flags)} {
		b = le.AppendUint32(b, uint32(v))
	}
	b = le.AppendUint64(b, cfg.Seed)
	st, err := ix.pcg.MarshalBinary()
	if err != nil {
		return err
	}
	b = le.AppendUint32(b, uint32(len(st)))
	b = append(b, st...)
	n := ix.Len()
	entry, top := ix.loadTop()
	b = le.AppendUint64(b, uint64(n))
	b = le.AppendUint64(b, uint64(ix.nDel.Load()))
	b = le.AppendUint32(b, uint32(entry))
	b = le.AppendUint32(b, uint32(top))
	if _, err := w.Write(b); err != nil {
		return err
	}
	if _, err := w.Write(ix.levels[:n]); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		var t byte
		if ix.isDeleted(int32(i)) {
			t = 1
		}
		if err := w.WriteByte(t); err != nil {
			return err
		}
	}
	b = b[:0]
	for _, x := range ix.vecs[:n*cfg.Dim] {
		b = le.AppendUint32(b, math.Float32bits(x))
		if len(b) >= 1<<12 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	var buf []int32
	for i := 0; i < n; i++ {
		for l := 0; l <= int(ix.levels[i]); l++ {
			buf = ix.readLinks(int32(i), l, buf)
			b = le.AppendUint32(b, uint32(len(buf)))
			for _, x := range buf {
				b = le.AppendUint32(b, uint32(x))
			}
		}
		if len(b) >= 1<<12 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	_, err = w.Write(b)
	return err
}

// Load reads an index written by Save. The whole file is read and its CRC-32C checked before
// anything is decoded; then every field is validated (parameters, ids in range, list sizes,
// finite vectors, a consistent entry point), so a damaged file gives an error wrapping
// ErrCorrupt (a *ChecksumError, a *TruncatedError, a *MagicError or another inconsistency)
// instead of a broken index, and a file of another version a *VersionError.
func Load(path string) (*Index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hnsw: Load: %w", err)
	}
	ix, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("hnsw: Load %s: %w", path, err)
	}
	return ix, nil
}

// LoadFrom reads an index in the format of Save from r, to its end, and checks it as Load does.
func LoadFrom(r io.Reader) (*Index, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("hnsw: LoadFrom: %w", err)
	}
	ix, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("hnsw: LoadFrom: %w", err)
	}
	return ix, nil
}

// Decode is Load of a file's bytes, already in memory (the index does not keep data).
func Decode(data []byte) (*Index, error) {
	ix, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("hnsw: %w", err)
	}
	return ix, nil
}

var corrupt = persist.Corruptf

func decode(data []byte) (*Index, error) {
	d, _, err := persist.Open(data, fileFormat, fileMagic, fileVersion)
	if err != nil {
		return nil, err
	}
	var cfg Config
	cfg.Dim = int(d.U32("config"))
	cfg.Metric = Metric(d.U32("config"))
	cfg.M = int(d.U32("config"))
	cfg.EfConstruction = int(d.U32("config"))
	cfg.EfSearch = int(d.U32("config"))
	flags := d.U32("config")
	cfg.KeepPruned = flags&1 != 0
	cfg.Seed = d.U64("config")
	st := d.Bytes(int(d.U32("rng state")), "rng state")
	if d.Err() != nil {
		return nil, d.Err()
	}
	if flags&^1 != 0 {
		return nil, corrupt("unknown flags %#x", flags)
	}
	checked, err := cfg.withDefaults()
	if err != nil || checked != cfg {
		return nil, corrupt("invalid parameters %+v", cfg)
	}
	ix := newIndex(cfg)
	if err := ix.pcg.UnmarshalBinary(st); err != nil {
		return nil, corrupt("level generator state: %v", err)
	}
	n64 := d.U64("counts")
	nDel64 := d.U64("counts")
	entry := int32(d.U32("counts"))
	top := int(d.U32("counts"))
	if d.Err() != nil {
		return nil, d.Err()
	}
	// Every node takes at least 2 bytes (level, flag), 4*Dim (vector) and 4 (layer-0 count).
	if per := uint64(2 + 4*cfg.Dim + 4); n64 > maxNodes || n64 > uint64(d.Remaining())/per {
		return nil, corrupt("%d nodes cannot fit in the %d bytes left", n64, d.Remaining())
	}
	n := int(n64)
	if nDel64 > n64 {
		return nil, corrupt("%d deleted of %d nodes", nDel64, n64)
	}
	levels := d.Bytes(n, "levels")
	tomb := d.Bytes(n, "tombstones")
	vb := d.Bytes(4*n*cfg.Dim, "vectors")
	if d.Err() != nil {
		return nil, d.Err()
	}
	ix.reserve(n)
	copy(ix.levels, levels)
	var nDel int
	maxLive := -1
	for i := 0; i < n; i++ {
		if levels[i] > maxLevel {
			return nil, corrupt("node %d has level %d > %d", i, levels[i], maxLevel)
		}
		switch tomb[i] {
		case 0:
			maxLive = max(maxLive, int(levels[i]))
		case 1:
			ix.deleted[i] = 1
			nDel++
		default:
			return nil, corrupt("node %d has tombstone flag %d", i, tomb[i])
		}
	}
	if uint64(nDel) != nDel64 {
		return nil, corrupt("%d tombstones but the header says %d", nDel, nDel64)
	}
	for i := range ix.vecs[:n*cfg.Dim] {
		ix.vecs[i] = math.Float32frombits(binary.LittleEndian.Uint32(vb[4*i:]))
	}
	for i := 0; i < n; i++ {
		if _, err := checkVector(ix.vec(int32(i)), "vector of node", i); err != nil {
			return nil, corrupt("%s", strings.TrimPrefix(err.Error(), "hnsw: "))
		}
	}
	for i := 0; i < n; i++ {
		lv := int(levels[i])
		if need := 4 * (lv + 1); d.Remaining() < need {
			// Each layer's list takes at least its count: check before allocating the layers.
			d.Bytes(need, "lists")
			return nil, d.Err()
		}
		if lv > 0 {
			ix.upper[i] = make([]int32, lv*ix.stride)
		}
		for l := 0; l <= lv; l++ {
			c := int(d.U32("lists"))
			if d.Err() != nil {
				return nil, d.Err()
			}
			if c > ix.maxLinks(l) {
				return nil, corrupt("node %d has %d neighbours on layer %d, at most %d allowed", i, c, l, ix.maxLinks(l))
			}
			if c > 0 && tomb[i] == 1 {
				return nil, corrupt("deleted node %d has neighbours on layer %d", i, l)
			}
			s := ix.slot(int32(i), l)
			s[0] = int32(c)
			for j := 1; j <= c; j++ {
				x := d.U32("lists")
				if d.Err() != nil {
					return nil, d.Err()
				}
				if x >= uint32(n) || int(x) == i || levels[x] < uint8(l) || tomb[x] == 1 {
					return nil, corrupt("node %d lists neighbour %d on layer %d, which is not a live node of that layer", i, x, l)
				}
				s[j] = int32(x)
			}
		}
	}
	if err := d.Finish("the lists"); err != nil {
		return nil, err
	}
	switch {
	case n-nDel == 0 && entry != -1:
		return nil, corrupt("entry point %d in an index with no live node", entry)
	case n-nDel > 0 && (entry < 0 || int(entry) >= n || tomb[entry] == 1 || int(levels[entry]) != top || top != maxLive):
		return nil, corrupt("entry point %d at level %d is not a live node on the top layer %d", entry, top, maxLive)
	}
	if entry < 0 {
		top = 0
	}
	ix.n.Store(int64(n))
	ix.nDel.Store(int64(nDel))
	ix.storeTop(entry, top)
	return ix, nil
}
