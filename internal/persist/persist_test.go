package persist

import (
	"bytes"
	"errors"
	"testing"
)

const testMagic = "TESTmagc"

func framed(t *testing.T, version uint32, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := Frame(&buf, testMagic, version, func(w *Writer) error {
		_, err := w.Write(body)
		return err
	})
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("Frame: %d bytes, %v; buffer holds %d", n, err, buf.Len())
	}
	return buf.Bytes()
}

// TestOpenErrors provokes every typed error of Open and checks errors.Is and errors.As.
func TestOpenErrors(t *testing.T) {
	good := framed(t, 2, []byte("body bytes"))
	d, v, err := Open(good, "test file", testMagic, 1, 2)
	if err != nil || v != 2 || string(d.Bytes(d.Remaining(), "body")) != "body bytes" {
		t.Fatalf("Open of a good file: version %d, %v", v, err)
	}
	if got := Trailer(good); got != Checksum(good[:len(good)-4]) {
		t.Errorf("Trailer %08x, want the CRC of the body", got)
	}
	if whole := Checksum(good); whole != 0x48674bc7 {
		t.Errorf("CRC-32C of a whole framed file %08x, want the residue 48674bc7", whole)
	}
	flip := bytes.Clone(good)
	flip[len(flip)-6] ^= 1
	wrongMagic := bytes.Clone(good)
	wrongMagic[0] = 'X'
	newer := framed(t, 3, []byte("x"))
	for _, c := range []struct {
		name   string
		data   []byte
		target error
		as     func(error) bool
	}{
		{"truncated header", good[:3], ErrTruncated, func(err error) bool { var e *TruncatedError; return errors.As(err, &e) }},
		{"truncated trailer", good[:HeaderSize+2], ErrTruncated, func(err error) bool { var e *TruncatedError; return errors.As(err, &e) }},
		{"truncated body", good[:len(good)-1], ErrChecksum, func(err error) bool { var e *ChecksumError; return errors.As(err, &e) }},
		{"flipped byte", flip, ErrChecksum, func(err error) bool {
			var e *ChecksumError
			return errors.As(err, &e) && e.Stored == Trailer(flip) && e.Computed == Checksum(flip[:len(flip)-4])
		}},
		{"wrong magic", wrongMagic, ErrMagic, func(err error) bool { var e *MagicError; return errors.As(err, &e) && string(e.Found) == "XESTmagc" }},
		{"newer version", newer, ErrVersion, func(err error) bool {
			var e *VersionError
			return errors.As(err, &e) && e.Found == 3 && len(e.Supported) == 2
		}},
	} {
		_, _, err := Open(c.data, "test file", testMagic, 1, 2)
		if !errors.Is(err, c.target) || !c.as(err) {
			t.Errorf("%s: error %v, want %v of the right type", c.name, err, c.target)
		}
		if corrupt := errors.Is(err, ErrCorrupt); corrupt == (c.target == ErrVersion) {
			t.Errorf("%s: errors.Is(err, ErrCorrupt) = %v", c.name, corrupt)
		}
	}
}

// TestDecoderBounds: counts beyond the input fail without allocating, and errors stick.
func TestDecoderBounds(t *testing.T) {
	d := NewDecoder([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, 0)
	if n := d.Count(4, "items"); n != 0 || !errors.Is(d.Err(), ErrTruncated) {
		t.Fatalf("Count of 2^32-1 items in 3 bytes: %d, %v", n, d.Err())
	}
	if d.U8("after") != 0 || d.Offset() != 4 {
		t.Error("a decoder in error kept reading")
	}
	d = NewDecoder([]byte{2, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x7f, 9}, 0)
	vals := make([]float32, d.Count(4, "values"))
	d.F32s(vals[:1], true, "values")
	if d.Err() != nil || vals[0] != 1 {
		t.Fatalf("values %v, %v", vals, d.Err())
	}
	d.F32s(vals[1:], true, "values")
	if !errors.Is(d.Err(), ErrCorrupt) {
		t.Errorf("NaN accepted: %v", d.Err())
	}
	d = NewDecoder([]byte{1, 2}, 0)
	d.U8("a")
	if err := d.Finish("the fields"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestVersionErrorMessage(t *testing.T) {
	older := (&VersionError{Format: "f", Found: 1, Supported: []uint32{2}}).Error()
	newer := (&VersionError{Format: "f", Found: 7, Supported: []uint32{2, 3}}).Error()
	if !bytes.Contains([]byte(older), []byte("older build")) || !bytes.Contains([]byte(newer), []byte("newer build")) || !bytes.Contains([]byte(newer), []byte("[2 3]")) {
		t.Errorf("messages %q, %q", older, newer)
	}
}

func TestCorruptKeepsMessage(t *testing.T) {
	inner := errors.New("pickle: truncated")
	err := Corrupt(inner)
	if err.Error() != inner.Error() || !errors.Is(err, ErrCorrupt) || !errors.Is(err, inner) || Corrupt(nil) != nil {
		t.Errorf("Corrupt(%v) = %v", inner, err)
	}
}
