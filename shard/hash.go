package shard

// VirtualShards is the number of virtual shards ids hash to; virtual shard v lives on physical
// shard v mod N. Fixed, so that ids keep their virtual shard when N changes.
const VirtualShards = 128

// Of returns the physical shard (0..n-1) of id: murmur3 (32-bit, seed 0) of the id's bytes to
// one of VirtualShards virtual shards, as Weaviate does, then the virtual shard mod n.
func Of(id string, n int) int {
	return int(murmur3([]byte(id), 0)%VirtualShards) % n
}

// murmur3 is MurmurHash3_x86_32 (Austin Appleby, public domain).
func murmur3(data []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := len(data)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= c1
		k = k<<15 | k>>17
		k *= c2
		h ^= k
		h = h<<13 | h>>19
		h = h*5 + 0xe6546b64
	}
	var k uint32
	tail := data[n&^3:]
	switch len(tail) {
	case 3:
		k ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(tail[0])
		k *= c1
		k = k<<15 | k>>17
		k *= c2
		h ^= k
	}
	h ^= uint32(n)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
