package hnsw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
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
const (
	fileMagic   = "HNSWgogn"
	fileVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Save writes the index to path atomically: it writes a temporary file in the same directory,
// syncs it to disk and renames it over path, so a crash leaves either the old file or the new one.
// Searches may run during Save; Add and Delete wait for it. See Load for reading it back; the
// level generator's state is saved too, so a loaded index continues a build exactly as the
// original would.
func (ix *Index) Save(path string) (err error) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("hnsw: Save: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	if err = ix.encode(bw); err != nil {
		return fmt.Errorf("hnsw: Save %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("hnsw: Save %s: %w", path, err)
	}
	if _, err = f.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return fmt.Errorf("hnsw: Save %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("hnsw: Save %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("hnsw: Save %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("hnsw: Save %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("hnsw: Save: %w", err)
	}
	// Make the rename itself durable.
	if d, derr := os.Open(dir); derr == nil {
		derr = d.Sync()
		d.Close()
		if derr != nil {
			return fmt.Errorf("hnsw: Save %s: sync directory: %w", path, derr)
		}
	}
	return nil
}

// encode writes everything but the checksum (writer lock held).
func (ix *Index) encode(w *bufio.Writer) error {
	le := binary.LittleEndian
	b := make([]byte, 0, 1<<12)
	b = append(b, fileMagic...)
	b = le.AppendUint32(b, fileVersion)
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

// ErrCorrupt is wrapped by the errors Load returns for a file that is truncated, fails its
// checksum or holds inconsistent data.
var ErrCorrupt = errors.New("corrupt index file")

// Load reads an index written by Save. The whole file is read and its CRC-32C checked before
// anything is decoded; then every field is validated (parameters, ids in range, list sizes,
// finite vectors, a consistent entry point), so a damaged file gives an error wrapping
// ErrCorrupt instead of a broken index.
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

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = fmt.Errorf("%w: truncated in %s at byte %d (need %d bytes, %d left)", ErrCorrupt, what, d.off, n, len(d.b)-d.off)
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) u32(what string) uint32 {
	s := d.bytes(4, what)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(s)
}

func (d *decoder) u64(what string) uint64 {
	s := d.bytes(8, what)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(s)
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func decode(data []byte) (*Index, error) {
	const minSize = len(fileMagic) + 4 + 4
	if len(data) < minSize {
		return nil, corrupt("file has %d bytes, too short for an index", len(data))
	}
	if string(data[:len(fileMagic)]) != fileMagic {
		return nil, fmt.Errorf("not an hnsw index file (magic %q, want %q)", data[:len(fileMagic)], fileMagic)
	}
	if v := binary.LittleEndian.Uint32(data[len(fileMagic):]); v != fileVersion {
		return nil, fmt.Errorf("index file version %d; this code reads version %d", v, fileVersion)
	}
	body := data[:len(data)-4]
	want := binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.Checksum(body, castagnoli); got != want {
		return nil, corrupt("checksum mismatch (CRC-32C %08x, file says %08x): the file is truncated or damaged", got, want)
	}
	d := &decoder{b: body, off: len(fileMagic) + 4}
	var cfg Config
	cfg.Dim = int(d.u32("config"))
	cfg.Metric = Metric(d.u32("config"))
	cfg.M = int(d.u32("config"))
	cfg.EfConstruction = int(d.u32("config"))
	cfg.EfSearch = int(d.u32("config"))
	flags := d.u32("config")
	cfg.KeepPruned = flags&1 != 0
	cfg.Seed = d.u64("config")
	st := d.bytes(int(d.u32("rng state")), "rng state")
	if d.err != nil {
		return nil, d.err
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
	n64 := d.u64("counts")
	nDel64 := d.u64("counts")
	entry := int32(d.u32("counts"))
	top := int(d.u32("counts"))
	if d.err != nil {
		return nil, d.err
	}
	// Every node takes at least 2 bytes (level, flag), 4*Dim (vector) and 4 (layer-0 count).
	if per := uint64(2 + 4*cfg.Dim + 4); n64 > maxNodes || n64 > uint64(len(body))/per {
		return nil, corrupt("%d nodes cannot fit in %d bytes", n64, len(body))
	}
	n := int(n64)
	if nDel64 > n64 {
		return nil, corrupt("%d deleted of %d nodes", nDel64, n64)
	}
	levels := d.bytes(n, "levels")
	tomb := d.bytes(n, "tombstones")
	vb := d.bytes(4*n*cfg.Dim, "vectors")
	if d.err != nil {
		return nil, d.err
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
		if lv > 0 {
			ix.upper[i] = make([]int32, lv*ix.stride)
		}
		for l := 0; l <= lv; l++ {
			c := int(d.u32("lists"))
			if d.err != nil {
				return nil, d.err
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
				x := d.u32("lists")
				if d.err != nil {
					return nil, d.err
				}
				if x >= uint32(n) || int(x) == i || levels[x] < uint8(l) || tomb[x] == 1 {
					return nil, corrupt("node %d lists neighbour %d on layer %d, which is not a live node of that layer", i, x, l)
				}
				s[j] = int32(x)
			}
		}
	}
	if d.off != len(body) {
		return nil, corrupt("%d unexpected bytes after the lists", len(body)-d.off)
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
