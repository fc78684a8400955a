package datasets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/nlpodyssey/gopickle/pickle"
)

// The Planetoid files are Python 2 pickles (protocol 2). A pickle is a program for a small stack
// machine that may call any Python global it names, so they are read in two passes:
//
//  1. checkPickle walks the opcodes without building anything. It accepts only the opcodes of
//     protocols 0-3 that plain data needs, refuses every global outside allowedGlobals, checks
//     that every length fits in the input (so no opcode can make the reader allocate more than
//     the file holds), simulates the stack depth (so no opcode underflows it, and DICT and
//     SETITEMS get key/value pairs), checks memo references and bounds the MARK nesting.
//  2. gopickle runs the checked program. Its FindClass hook maps the allowed globals to the small
//     Go types in numpy.go and refuses anything else a second time.
//
// Step 1 is needed for the allow-list to be exact: gopickle v0.2.0 answers
// copy_reg._reconstructor, collections.OrderedDict and __builtin__.object itself, without asking
// the FindClass hook. It also rules out every input on which gopickle is known to panic (opcode
// 0xff, a zero-length LONG1, an odd DICT or SETITEMS) or to allocate what the input does not
// hold (a length larger than the input). unpickle still recovers a panic at the gopickle
// boundary and reports it as an error (errPicklePanic), as a last line of defence; FuzzPickle
// fails if that line is ever reached.

// allowedGlobals lists exactly the Python globals that the Planetoid files name (found by
// disassembling the Cora files with pickletools): numpy arrays and dtypes, scipy's CSR matrix
// and the defaultdict(list) of the graph. Any other global is refused by name.
var allowedGlobals = map[string]bool{
	"numpy.core.multiarray._reconstruct": true,
	"numpy.ndarray":                      true,
	"numpy.dtype":                        true,
	"scipy.sparse.csr.csr_matrix":        true,
	"collections.defaultdict":            true,
	"__builtin__.list":                   true,
}

const (
	maxMarkDepth = 64 // the Planetoid files nest MARKs three deep
	maxTextArg   = 64 // longest decimal argument of INT, LONG, FLOAT, GET, PUT
	maxLongBytes = 8  // LONG1/LONG4 integers must fit an int64
)

// errPicklePanic marks an error converted from a panic inside gopickle.
var errPicklePanic = errors.New("pickle reader panicked")

// pickleError reports where a pickle is malformed.
type pickleError struct {
	off int
	msg string
}

func (e *pickleError) Error() string { return fmt.Sprintf("pickle offset %d: %s", e.off, e.msg) }

// unpickle checks data with checkPickle, then decodes it with gopickle, mapping the allowed
// globals to the types of numpy.go.
func unpickle(data []byte) (v any, err error) {
	if err := checkPickle(data); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			v = nil
			err = fmt.Errorf("%w: %s", errPicklePanic, clip(fmt.Sprint(r)))
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = findClass
	v, err = u.Load()
	if err != nil {
		// gopickle formats offending values with %#v; keep messages readable.
		return nil, fmt.Errorf("pickle: %s", clip(err.Error()))
	}
	return v, nil
}

// clip shortens s to at most 200 bytes.
func clip(s string) string {
	const n = 200
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// opcode argument kinds for checkPickle.
const (
	argNone    = iota
	argFixed   // n bytes
	argLine    // one newline-terminated line
	argLine2   // two lines (GLOBAL)
	argTextInt // one short line: INT, LONG, FLOAT
	argGetLine // GET: memo index as text
	argPutLine // PUT: memo index as text
	argGet1    // BINGET
	argGet4    // LONG_BINGET
	argPut1    // BINPUT
	argPut4    // LONG_BINPUT
	argLen1    // 1-byte length, then data
	argLen4    // 4-byte unsigned length, then data
	argLen4s   // 4-byte signed length, then data (BINSTRING)
	argLong1   // LONG1
	argLong4   // LONG4
	argProto   // PROTO
	argRefused // opcodes the Planetoid files never need
)

// Stack effects, in items of the current MARK frame.
const (
	fxPopMark   = 100 // pops to the last MARK, then pushes one item (TUPLE, LIST, DICT)
	fxPopMark0  = 101 // pops to the last MARK, pushes nothing (POP_MARK)
	fxPopMarkIn = 102 // pops to the last MARK into the item below it (APPENDS, SETITEMS)
	fxMark      = 103
	fxStop      = 104
	fxPop       = 105 // POP: one item, or the MARK frame when it is empty
)

type opInfo struct {
	name  string
	arg   int
	n     int // argFixed size
	need  int // items the current frame must hold
	delta int // net change of the frame's item count, or one of the fx* codes
	pairs bool
}

var opTable [256]opInfo

func init() {
	set := func(op byte, info opInfo) { opTable[op] = info }
	set('(', opInfo{name: "MARK", delta: fxMark})
	set('.', opInfo{name: "STOP", delta: fxStop, need: 1})
	set('0', opInfo{name: "POP", delta: fxPop})
	set('1', opInfo{name: "POP_MARK", delta: fxPopMark0})
	set('2', opInfo{name: "DUP", need: 1, delta: 1})
	set('F', opInfo{name: "FLOAT", arg: argTextInt, delta: 1})
	set('I', opInfo{name: "INT", arg: argTextInt, delta: 1})
	set('J', opInfo{name: "BININT", arg: argFixed, n: 4, delta: 1})
	set('K', opInfo{name: "BININT1", arg: argFixed, n: 1, delta: 1})
	set('L', opInfo{name: "LONG", arg: argTextInt, delta: 1})
	set('M', opInfo{name: "BININT2", arg: argFixed, n: 2, delta: 1})
	set('N', opInfo{name: "NONE", delta: 1})
	set('P', opInfo{name: "PERSID", arg: argRefused})
	set('Q', opInfo{name: "BINPERSID", arg: argRefused})
	set('R', opInfo{name: "REDUCE", need: 2, delta: -1})
	set('S', opInfo{name: "STRING", arg: argLine, delta: 1})
	set('T', opInfo{name: "BINSTRING", arg: argLen4s, delta: 1})
	set('U', opInfo{name: "SHORT_BINSTRING", arg: argLen1, delta: 1})
	set('V', opInfo{name: "UNICODE", arg: argLine, delta: 1})
	set('X', opInfo{name: "BINUNICODE", arg: argLen4, delta: 1})
	set('a', opInfo{name: "APPEND", need: 2, delta: -1})
	set('b', opInfo{name: "BUILD", need: 2, delta: -1})
	set('c', opInfo{name: "GLOBAL", arg: argLine2, delta: 1})
	set('d', opInfo{name: "DICT", delta: fxPopMark, pairs: true})
	set('}', opInfo{name: "EMPTY_DICT", delta: 1})
	set('e', opInfo{name: "APPENDS", delta: fxPopMarkIn})
	set('g', opInfo{name: "GET", arg: argGetLine, delta: 1})
	set('h', opInfo{name: "BINGET", arg: argGet1, delta: 1})
	set('i', opInfo{name: "INST", arg: argRefused})
	set('j', opInfo{name: "LONG_BINGET", arg: argGet4, delta: 1})
	set('l', opInfo{name: "LIST", delta: fxPopMark})
	set(']', opInfo{name: "EMPTY_LIST", delta: 1})
	set('o', opInfo{name: "OBJ", arg: argRefused})
	set('p', opInfo{name: "PUT", arg: argPutLine, need: 1})
	set('q', opInfo{name: "BINPUT", arg: argPut1, need: 1})
	set('r', opInfo{name: "LONG_BINPUT", arg: argPut4, need: 1})
	set('s', opInfo{name: "SETITEM", need: 3, delta: -2})
	set('t', opInfo{name: "TUPLE", delta: fxPopMark})
	set(')', opInfo{name: "EMPTY_TUPLE", delta: 1})
	set('u', opInfo{name: "SETITEMS", delta: fxPopMarkIn, pairs: true})
	set('G', opInfo{name: "BINFLOAT", arg: argFixed, n: 8, delta: 1})
	// Protocol 2.
	set(0x80, opInfo{name: "PROTO", arg: argProto})
	set(0x81, opInfo{name: "NEWOBJ", need: 2, delta: -1})
	set(0x82, opInfo{name: "EXT1", arg: argRefused})
	set(0x83, opInfo{name: "EXT2", arg: argRefused})
	set(0x84, opInfo{name: "EXT4", arg: argRefused})
	set(0x85, opInfo{name: "TUPLE1", need: 1, delta: 0})
	set(0x86, opInfo{name: "TUPLE2", need: 2, delta: -1})
	set(0x87, opInfo{name: "TUPLE3", need: 3, delta: -2})
	set(0x88, opInfo{name: "NEWTRUE", delta: 1})
	set(0x89, opInfo{name: "NEWFALSE", delta: 1})
	set(0x8a, opInfo{name: "LONG1", arg: argLong1, delta: 1})
	set(0x8b, opInfo{name: "LONG4", arg: argLong4, delta: 1})
	// Protocol 3.
	set('B', opInfo{name: "BINBYTES", arg: argLen4, delta: 1})
	set('C', opInfo{name: "SHORT_BINBYTES", arg: argLen1, delta: 1})
	// Protocols 4 and 5 (FRAME, STACK_GLOBAL, MEMOIZE, ...) are left unknown: the Planetoid
	// files are protocol 2, and STACK_GLOBAL would take the global's name from the stack, out
	// of reach of this check.
}

// checkPickle validates the opcode stream of data without executing it; see the comment at the
// top of this file.
func checkPickle(data []byte) error {
	frames := []int{0} // items per MARK frame; frames[0] is the bottom of the stack
	memo := make(map[uint64]bool)
	off := 0
	fail := func(at int, format string, args ...any) error {
		return &pickleError{off: at, msg: fmt.Sprintf(format, args...)}
	}
	if len(data) == 0 {
		return fail(0, "empty file, want a pickle")
	}
	for off < len(data) {
		at := off
		op := data[off]
		off++
		info := opTable[op]
		if info.name == "" {
			return fail(at, "unsupported opcode 0x%02x (the Planetoid files use pickle protocol 2)", op)
		}
		if info.arg == argRefused {
			return fail(at, "opcode %s is not allowed in a Planetoid file", info.name)
		}
		// Read and check the argument.
		need := func(n int) ([]byte, error) {
			if n < 0 || n > len(data)-off {
				return nil, fail(at, "%s: truncated (needs %d bytes, %d left)", info.name, n, len(data)-off)
			}
			b := data[off : off+n]
			off += n
			return b, nil
		}
		line := func(max int) ([]byte, error) {
			end := bytes.IndexByte(data[off:], '\n')
			if end < 0 {
				return nil, fail(at, "%s: truncated (no end of line)", info.name)
			}
			if max > 0 && end > max {
				return nil, fail(at, "%s: argument longer than %d bytes", info.name, max)
			}
			b := data[off : off+end]
			off += end + 1
			return b, nil
		}
		var memoGet, memoPut *uint64
		switch info.arg {
		case argNone:
		case argFixed:
			if _, err := need(info.n); err != nil {
				return err
			}
		case argLine:
			if _, err := line(0); err != nil {
				return err
			}
		case argLine2:
			mod, err := line(0)
			if err != nil {
				return err
			}
			name, err := line(0)
			if err != nil {
				return err
			}
			g := string(mod) + "." + string(name)
			if !allowedGlobals[g] {
				return fail(at, "global %s is not allowed: a Planetoid file names only numpy arrays, scipy CSR matrices and a defaultdict of lists", strconv.Quote(g))
			}
		case argTextInt:
			if _, err := line(maxTextArg); err != nil {
				return err
			}
		case argGetLine, argPutLine:
			b, err := line(maxTextArg)
			if err != nil {
				return err
			}
			i, perr := strconv.ParseUint(string(b), 10, 63)
			if perr != nil {
				return fail(at, "%s: bad memo index %q", info.name, b)
			}
			if info.arg == argGetLine {
				memoGet = &i
			} else {
				memoPut = &i
			}
		case argGet1, argPut1:
			b, err := need(1)
			if err != nil {
				return err
			}
			i := uint64(b[0])
			if info.arg == argGet1 {
				memoGet = &i
			} else {
				memoPut = &i
			}
		case argGet4, argPut4:
			b, err := need(4)
			if err != nil {
				return err
			}
			i := uint64(binary.LittleEndian.Uint32(b))
			if info.arg == argGet4 {
				memoGet = &i
			} else {
				memoPut = &i
			}
		case argLen1:
			b, err := need(1)
			if err != nil {
				return err
			}
			if _, err := need(int(b[0])); err != nil {
				return err
			}
		case argLen4, argLen4s:
			b, err := need(4)
			if err != nil {
				return err
			}
			n := int64(binary.LittleEndian.Uint32(b))
			if info.arg == argLen4s {
				n = int64(int32(binary.LittleEndian.Uint32(b)))
				if n < 0 {
					return fail(at, "%s: negative length %d", info.name, n)
				}
			}
			if n > int64(len(data)-off) {
				return fail(at, "%s: truncated (needs %d bytes, %d left)", info.name, n, len(data)-off)
			}
			off += int(n)
		case argLong1, argLong4:
			var n int64
			if info.arg == argLong1 {
				b, err := need(1)
				if err != nil {
					return err
				}
				n = int64(b[0])
			} else {
				b, err := need(4)
				if err != nil {
					return err
				}
				n = int64(int32(binary.LittleEndian.Uint32(b)))
			}
			if n < 1 || n > maxLongBytes {
				return fail(at, "%s: %d-byte integer, want 1 to %d bytes", info.name, n, maxLongBytes)
			}
			if _, err := need(int(n)); err != nil {
				return err
			}
		case argProto:
			b, err := need(1)
			if err != nil {
				return err
			}
			if b[0] > 3 {
				return fail(at, "pickle protocol %d: only protocols 0 to 3 are read (the Planetoid files are protocol 2)", b[0])
			}
		default:
			return fail(at, "internal error: opcode %s has no argument rule", info.name)
		}
		if memoGet != nil && !memo[*memoGet] {
			return fail(at, "%s: memo entry %d was never stored", info.name, *memoGet)
		}

		// Simulate the stack.
		top := len(frames) - 1
		if frames[top] < info.need {
			return fail(at, "%s: needs %d stack items, the current frame has %d", info.name, info.need, frames[top])
		}
		if memoPut != nil {
			memo[*memoPut] = true
		}
		switch info.delta {
		case fxMark:
			if len(frames) > maxMarkDepth {
				return fail(at, "MARK nested more than %d deep", maxMarkDepth)
			}
			frames = append(frames, 0)
		case fxPopMark, fxPopMark0, fxPopMarkIn:
			if top == 0 {
				return fail(at, "%s without a MARK", info.name)
			}
			if info.pairs && frames[top]%2 != 0 {
				return fail(at, "%s: odd number of items (%d), want key/value pairs", info.name, frames[top])
			}
			frames = frames[:top]
			top--
			switch info.delta {
			case fxPopMark:
				frames[top]++
			case fxPopMarkIn:
				if frames[top] < 1 {
					return fail(at, "%s: no list or dict below the MARK", info.name)
				}
			}
		case fxPop:
			if frames[top] > 0 {
				frames[top]--
			} else if top > 0 {
				frames = frames[:top]
			} else {
				return fail(at, "POP on an empty stack")
			}
		case fxStop:
			if top != 0 {
				return fail(at, "STOP inside an open MARK")
			}
			if off != len(data) {
				return fail(off, "%d bytes after STOP", len(data)-off)
			}
			return nil
		default:
			frames[top] += info.delta
		}
	}
	return fail(len(data), "truncated: the pickle ends without STOP")
}
