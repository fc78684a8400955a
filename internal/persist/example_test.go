package persist_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gnnlab/gognn/internal/persist"
)

// Frame a body (magic, version, CRC-32C trailer), read it back field by field, and see damage
// reported as corruption.
func Example() {
	var buf bytes.Buffer
	_, err := persist.Frame(&buf, "EXAMPLE1", 2, func(w *persist.Writer) error {
		_, err := w.Write(binary.LittleEndian.AppendUint32(nil, 42))
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, version, err := persist.Open(buf.Bytes(), "example", "EXAMPLE1", 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("version", version, "value", d.U32("value"), d.Finish("example"))

	damaged := bytes.Clone(buf.Bytes())
	damaged[12] ^= 1
	_, _, err = persist.Open(damaged, "example", "EXAMPLE1", 2)
	fmt.Println("damaged:", errors.Is(err, persist.ErrCorrupt))
	// Output:
	// version 2 value 42 <nil>
	// damaged: true
}
