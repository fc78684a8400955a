package hugepage_test

import (
	"fmt"

	"github.com/gnnlab/gognn/internal/hugepage"
)

// A table of 12 MB holds at least five whole aligned 2 MB pages; Advise asks for them before
// the table is first written (its error, on a kernel without transparent huge pages, only means
// 4 KB pages stay).
func Example() {
	table := make([]float32, 3<<20)
	mem := hugepage.Interior(table)
	_ = hugepage.Advise(mem)
	fmt.Println(len(mem) >= 5*hugepage.Size, len(mem)%hugepage.Size)
	// Output:
	// true 0
}
