package shard_test

import (
	"fmt"

	"github.com/gnnlab/gognn/shard"
)

// Which of 4 shards holds an id: the same in every process (the router, the shards and the
// trainer agree without talking), and an id keeps its virtual shard when shards are added.
func Example() {
	for _, id := range []string{"doc-1", "doc-2", "doc-3"} {
		fmt.Println(id, "-> shard", shard.Of(id, 4))
	}
	// Output:
	// doc-1 -> shard 2
	// doc-2 -> shard 3
	// doc-3 -> shard 3
}
