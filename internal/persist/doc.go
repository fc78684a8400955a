// Package persist is the one persistence layer of the module's binary files (hnsw's index.hnsw,
// search's gnn.state and its stream container, and the checks of modelfile and datasets): the
// file header, the CRC-32C trailer, a bounds-checked decoder, typed errors and, through package
// internal/atomicfile, the atomic writer.
//
// # Framing
//
// A framed file is little endian throughout:
//
//	offset  size  field
//	0       8     magic, identifying the format ("HNSWgogn", "GOGNNsrh", ...)
//	8       4     format version, uint32
//	12      ...   the body, defined by the format
//	end-4   4     CRC-32C (Castagnoli) of every byte before it, uint32
//
// Open checks a framed file in this order: length (at least header and trailer, else a
// *TruncatedError), magic (*MagicError), version (*VersionError), checksum (*ChecksumError),
// and returns a Decoder over the body. The version is checked before the checksum so that a file
// of another version is reported as such, not as damage. Writer produces the same framing.
//
// A note on whole-file checksums: the CRC-32C of a framed file including its trailer is the
// same constant (0x48674bc7) for every intact file, a property of the CRC, so a format that
// records another file's checksum records its trailer (Trailer), never the CRC of all its bytes.
//
// # Errors
//
// Every error about a file's content is, or wraps, one of the types below, and each matches
// sentinels with errors.Is:
//
//	*TruncatedError  ErrTruncated, ErrCorrupt   fewer bytes than a field or a count needs
//	*ChecksumError   ErrChecksum, ErrCorrupt    stored and computed CRC-32C differ
//	*MagicError      ErrMagic, ErrCorrupt       not a file of the expected format
//	*VersionError    ErrVersion                 a version this build does not read (Found,
//	                                            Supported); the file may well be intact
//	Corruptf         ErrCorrupt                 any other inconsistency (an id out of range, ...)
//
// The public packages re-export the sentinels (hnsw.ErrChecksum == persist.ErrChecksum, ...) and
// the types as aliases, so callers outside the module use errors.Is and errors.As on them.
//
// # Decoding untrusted bytes
//
// Decoder never allocates by a length read from the input without checking it first: Count
// reads a uint32 count and fails unless count*unit bytes remain, so a slice made from the count
// is bounded by the input's size. Decoder methods record the first error and return zero values
// afterwards, so a decode function checks Err once per phase instead of after every field.
package persist
