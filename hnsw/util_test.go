package hnsw_test

import (
	"encoding/binary"
	"hash/crc32"
)

func put32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }
