package persist

import (
	"errors"
	"fmt"
	"slices"
)

// Sentinels matched by the typed errors (see the package comment).
var (
	// ErrCorrupt is matched by every error about damaged or inconsistent content: truncation,
	// checksum, magic and Corruptf.
	ErrCorrupt = errors.New("corrupt data")
	// ErrChecksum is matched by a *ChecksumError.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTruncated is matched by a *TruncatedError.
	ErrTruncated = errors.New("truncated")
	// ErrMagic is matched by a *MagicError.
	ErrMagic = errors.New("bad magic")
	// ErrVersion is matched by a *VersionError.
	ErrVersion = errors.New("unsupported format version")
)

// ChecksumError reports a CRC-32C mismatch over What (empty for a whole file, else "header",
// "tensor w", ...).
type ChecksumError struct {
	What             string
	Stored, Computed uint32
}

func (e *ChecksumError) Error() string {
	msg := fmt.Sprintf("checksum mismatch (CRC-32C stored %08x, computed %08x): the data is truncated or damaged", e.Stored, e.Computed)
	if e.What != "" {
		msg = e.What + ": " + msg
	}
	return msg
}

// Is makes errors.Is match ErrChecksum and ErrCorrupt.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum || target == ErrCorrupt }

// TruncatedError reports input that ends before What: Need bytes were wanted at byte Offset and
// Left remained.
type TruncatedError struct {
	What       string
	Offset     int64
	Need, Left int64
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("truncated in %s at byte %d (need %d bytes, %d left)", e.What, e.Offset, e.Need, e.Left)
}

// Is makes errors.Is match ErrTruncated and ErrCorrupt.
func (e *TruncatedError) Is(target error) bool { return target == ErrTruncated || target == ErrCorrupt }

// MagicError reports input that does not start with the magic of the expected Format.
type MagicError struct {
	Format string // what was expected, with its article: "an hnsw index file"
	Found  []byte // the first bytes of the input (at most the magic's length)
	Want   string
}

func (e *MagicError) Error() string {
	return fmt.Sprintf("not %s (magic %q, want %q)", e.Format, e.Found, e.Want)
}

// Is makes errors.Is match ErrMagic and ErrCorrupt.
func (e *MagicError) Is(target error) bool { return target == ErrMagic || target == ErrCorrupt }

// VersionError reports a format version this build does not read.
type VersionError struct {
	Format    string   // with its article: "an hnsw index file"
	Found     uint32   // the version in the input
	Supported []uint32 // the versions this build reads, ascending; the last is the one it writes
}

func (e *VersionError) Error() string {
	newest := uint32(0)
	if len(e.Supported) > 0 {
		newest = e.Supported[len(e.Supported)-1]
	}
	reads := fmt.Sprintf("version %d", newest)
	if len(e.Supported) > 1 {
		reads = fmt.Sprintf("versions %v", e.Supported)
	}
	hint := "it was written by an older build of github.com/gnnlab/gognn: load it with that build and save it again, or rebuild it"
	if e.Found > newest {
		hint = "it was written by a newer build: update github.com/gnnlab/gognn"
	}
	return fmt.Sprintf("%s of version %d; this build reads %s; %s", e.Format, e.Found, reads, hint)
}

// Is makes errors.Is match ErrVersion.
func (e *VersionError) Is(target error) bool { return target == ErrVersion }

// Corruptf returns an error wrapping ErrCorrupt with the formatted description.
func Corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// CheckVersion returns nil if v is one of supported, else a *VersionError.
func CheckVersion(format string, v uint32, supported ...uint32) error {
	if slices.Contains(supported, v) {
		return nil
	}
	return &VersionError{Format: format, Found: v, Supported: slices.Clone(supported)}
}

// Corrupt returns err, with its message unchanged, as an error that also matches ErrCorrupt,
// for readers of formats outside this package (pickles, text) that describe damage their own way.
func Corrupt(err error) error {
	if err == nil {
		return nil
	}
	return corruptError{err}
}

type corruptError struct{ err error }

func (e corruptError) Error() string        { return e.err.Error() }
func (e corruptError) Unwrap() error        { return e.err }
func (e corruptError) Is(target error) bool { return target == ErrCorrupt }
