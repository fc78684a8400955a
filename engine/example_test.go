package engine_test

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gnnlab/gognn/engine"
)

// le appends little-endian fields: uint8, uint32 (also from int), uint64, []float32.
func le(b []byte, fields ...any) []byte {
	for _, f := range fields {
		switch v := f.(type) {
		case uint8:
			b = append(b, v)
		case int:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, v)
		case []float32:
			for _, x := range v {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		}
	}
	return b
}

// What the JavaScript package sends: create a plain HNSW index of 2-dimensional vectors (L2),
// add three vectors, and search the one nearest to (0.9, 1.1).
func Example() {
	e := engine.New()
	resp := e.Call(le([]byte{engine.OpCreateIndex}, 2, uint8(0), uint8(0), 16, 100, uint64(1), 0))
	if resp[0] != engine.StatusOK {
		fmt.Printf("%s\n", resp[1:])
		return
	}
	h := int(binary.LittleEndian.Uint32(resp[1:]))
	resp = e.Call(le([]byte{engine.OpAdd}, h, 6, []float32{0, 0, 1, 1, 5, 5}))
	fmt.Println("added, status", resp[0], "ids", len(resp[1:])/4)
	resp = e.Call(le([]byte{engine.OpSearch}, h, 1, 16, 0, 2, []float32{0.9, 1.1}))
	nq, k := binary.LittleEndian.Uint32(resp[1:]), binary.LittleEndian.Uint32(resp[5:])
	id := int32(binary.LittleEndian.Uint32(resp[9:]))
	fmt.Println(nq, "query,", k, "hit: id", id)
	// Output:
	// added, status 0 ids 3
	// 1 query, 1 hit: id 1
}
