package persist

import (
	"bufio"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"io"
)

// Sizes of the framing.
const (
	MagicSize   = 8
	HeaderSize  = MagicSize + 4 // magic and version
	TrailerSize = 4             // CRC-32C
)

// table is the module's one CRC-32C (Castagnoli) table.
var table = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C of b.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, table) }

// Update returns crc updated with b, as crc32.Update with the CRC-32C table.
func Update(crc uint32, b []byte) uint32 { return crc32.Update(crc, table, b) }

// NewHash returns a CRC-32C hash.
func NewHash() hash.Hash32 { return crc32.New(table) }

// Trailer returns the stored checksum of a framed file (its last 4 bytes), or 0 if data is
// shorter than a trailer. See the package comment for why a format records this, not the CRC
// of the whole file.
func Trailer(data []byte) uint32 {
	if len(data) < TrailerSize {
		return 0
	}
	return binary.LittleEndian.Uint32(data[len(data)-TrailerSize:])
}

// CheckMagic checks that data starts with magic (format names the expected kind of file in the
// error, with its article). Input that is a prefix of the magic is a *TruncatedError.
func CheckMagic(data []byte, format, magic string) error {
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		found := data[:min(len(data), len(magic))]
		if len(data) < len(magic) && string(data) == magic[:len(data)] {
			return &TruncatedError{What: "the magic", Need: int64(len(magic)), Left: int64(len(data))}
		}
		return &MagicError{Format: format, Found: append([]byte(nil), found...), Want: magic}
	}
	return nil
}

// Open checks the framing of data (length, magic, version among supported, checksum; in this
// order) and returns the version and a Decoder over the body: the bytes after the header and
// before the trailer. format names the kind of file in errors, with its article ("an hnsw
// index file").
func Open(data []byte, format, magic string, supported ...uint32) (*Decoder, uint32, error) {
	if err := CheckMagic(data, format, magic); err != nil {
		return nil, 0, err
	}
	if len(data) < HeaderSize+TrailerSize {
		return nil, 0, &TruncatedError{What: "the header", Need: HeaderSize + TrailerSize, Left: int64(len(data))}
	}
	v := binary.LittleEndian.Uint32(data[MagicSize:])
	if err := CheckVersion(format, v, supported...); err != nil {
		return nil, v, err
	}
	body := data[:len(data)-TrailerSize]
	if got, want := Checksum(body), Trailer(data); got != want {
		return nil, v, &ChecksumError{Stored: want, Computed: got}
	}
	return &Decoder{b: body, off: HeaderSize}, v, nil
}

// Writer writes a framed file: NewWriter writes the header, Close the trailer, and everything
// written in between is the body. It buffers; nothing is complete before Close.
type Writer struct {
	dst io.Writer
	crc hash.Hash32
	bw  *bufio.Writer
	n   int64
}

// NewWriter writes the header (magic, version) to w and returns a Writer for the body.
func NewWriter(w io.Writer, magic string, version uint32) (*Writer, error) {
	pw := &Writer{dst: w, crc: NewHash()}
	pw.bw = bufio.NewWriterSize(hashWriter{pw}, 1<<16)
	if len(magic) != MagicSize {
		panic("persist: magic must have 8 bytes") // a programming error, not input
	}
	hdr := binary.LittleEndian.AppendUint32([]byte(magic), version)
	if _, err := pw.bw.Write(hdr); err != nil {
		return nil, err
	}
	return pw, nil
}

type hashWriter struct{ w *Writer }

func (h hashWriter) Write(p []byte) (int, error) {
	h.w.crc.Write(p)
	n, err := h.w.dst.Write(p)
	h.w.n += int64(n)
	return n, err
}

// Write writes body bytes.
func (w *Writer) Write(p []byte) (int, error) { return w.bw.Write(p) }

// WriteByte writes one body byte.
func (w *Writer) WriteByte(c byte) error { return w.bw.WriteByte(c) }

// Close flushes the body and writes the trailer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	n, err := w.dst.Write(binary.LittleEndian.AppendUint32(nil, w.crc.Sum32()))
	w.n += int64(n)
	return err
}

// Sum returns the CRC-32C of what was written so far (after Close: the trailer's value).
func (w *Writer) Sum() uint32 { return w.crc.Sum32() }

// Written returns the number of bytes passed to the underlying writer (after Close: the file's
// size).
func (w *Writer) Written() int64 { return w.n }

// Frame calls body with a Writer framing its output into w with magic and version, then writes
// the trailer. It returns the number of bytes written.
func Frame(w io.Writer, magic string, version uint32, body func(w *Writer) error) (int64, error) {
	pw, err := NewWriter(w, magic, version)
	if err != nil {
		return 0, err
	}
	if err := body(pw); err != nil {
		return pw.Written(), err
	}
	err = pw.Close()
	return pw.Written(), err
}
