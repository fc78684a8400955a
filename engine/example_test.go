package engine_test

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gnnlab/gognn/engine"
)

// What the JavaScript package sends: create a plain HNSW index of 2-dimensional vectors (L2),
// add three vectors, and search the one nearest to (0.9, 1.1). Requests are an op byte and
// little-endian fields; responses a status byte and the result.
func Example() {
	u32 := binary.LittleEndian.AppendUint32
	f32s := func(b []byte, v ...float32) []byte {
		b = u32(b, uint32(len(v)))
		for _, x := range v {
			b = u32(b, math.Float32bits(x))
		}
		return b
	}
	e := engine.New()

	// dim 2, metric 0 (hnsw.L2), learn 0 (plain HNSW), M 16, efConstruction 100, seed 1, candidates 0
	req := u32([]byte{engine.OpCreateIndex}, 2)
	req = append(req, 0, 0)
	req = u32(u32(req, 16), 100)
	req = u32(binary.LittleEndian.AppendUint64(req, 1), 0)
	resp := e.Call(req)
	if resp[0] != engine.StatusOK {
		fmt.Printf("%s\n", resp[1:])
		return
	}
	h := binary.LittleEndian.Uint32(resp[1:])

	resp = e.Call(f32s(u32([]byte{engine.OpAdd}, h), 0, 0, 1, 1, 5, 5))
	fmt.Println("added, status", resp[0], "ids", len(resp[1:])/4)

	// handle, k 1, ef 16, no excluded ids, the query
	resp = e.Call(f32s(u32(u32(u32(u32([]byte{engine.OpSearch}, h), 1), 16), 0), 0.9, 1.1))
	nq, k := binary.LittleEndian.Uint32(resp[1:]), binary.LittleEndian.Uint32(resp[5:])
	id := int32(binary.LittleEndian.Uint32(resp[9:]))
	fmt.Println(nq, "query,", k, "hit: id", id)
	// Output:
	// added, status 0 ids 3
	// 1 query, 1 hit: id 1
}
