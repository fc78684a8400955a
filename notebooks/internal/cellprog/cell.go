package cellprog

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"strconv"
	"strings"
)

// A code cell, like a gophernotes cell, mixes imports, package-level declarations and statements.
// splitCell cuts it into chunks of one kind each, in cell order:
//
//   - imports go to the program's import block;
//   - func, method, type and const declarations go to package level, where every later cell (and
//     every function) sees them;
//   - statements, var declarations included, go into main in cell order, so that a variable of
//     one cell, declared with := or var, is visible in the next ones.
//
// Each chunk keeps its text and its position in the cell; the program places it after a //line
// directive, so the compiler's errors and the runtime's tracebacks name the cell and line.
type chunkKind int

const (
	importChunk chunkKind = iota
	declChunk
	stmtChunk
)

func (k chunkKind) String() string {
	return [...]string{"imports", "declarations", "statements"}[k]
}

type chunk struct {
	kind chunkKind
	cell int    // code cell number, 1-based
	line int    // line of the chunk's first byte in the cell, 1-based
	col  int    // its column, in bytes, 1-based
	text string // may be edited by the program builder (insertions only)
}

// cellFile is the file name a cell's code carries in compiler errors and tracebacks.
func cellFile(cell int) string { return "cell" + strconv.Itoa(cell) + ".go" }

// cellError is an error at a position in a cell.
type cellError struct {
	cell, line, col int
	msg             string
}

func (e *cellError) Error() string {
	if e.line == 0 {
		return fmt.Sprintf("cell %d: %s", e.cell, e.msg)
	}
	if e.col == 0 {
		return fmt.Sprintf("cell %d, line %d: %s", e.cell, e.line, e.msg)
	}
	return fmt.Sprintf("cell %d, line %d:%d: %s", e.cell, e.line, e.col, e.msg)
}

// splitCell cuts the source of code cell n into chunks. It checks that each chunk parses and
// reports the first syntax error with its line in the cell.
func splitCell(n int, src string) ([]chunk, error) {
	type tok struct {
		off int
		tok token.Token
		lit string
	}
	fset := token.NewFileSet()
	file := fset.AddFile(cellFile(n), -1, len(src))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, []byte(src), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)
	var toks []tok
	for {
		pos, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		toks = append(toks, tok{file.Offset(pos), t, lit})
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, &cellError{cell: n, line: errs[0].Pos.Line, col: errs[0].Pos.Column, msg: errs[0].Msg}
	}

	// Cut the token stream into top-level items at semicolons outside brackets, and classify
	// each by its first token.
	type item struct {
		kind       chunkKind
		start, end int // byte offsets in src
	}
	var items []item
	for i := 0; i < len(toks); {
		if toks[i].tok == token.SEMICOLON {
			i++
			continue
		}
		kind := stmtChunk
		switch toks[i].tok {
		case token.IMPORT:
			kind = importChunk
		case token.TYPE, token.CONST:
			kind = declChunk
		case token.FUNC:
			if isFuncDecl(func(k int) token.Token {
				if i+k < len(toks) {
					return toks[i+k].tok
				}
				return token.EOF
			}) {
				kind = declChunk
			}
		case token.PACKAGE:
			line, col := lineCol(src, toks[i].off)
			return nil, &cellError{cell: n, line: line, col: col, msg: "a cell has no package clause (gophernotes cells are not files): remove it"}
		}
		var open []int // tokens of the brackets not closed yet
		j := i
	scan:
		for ; j < len(toks); j++ {
			switch toks[j].tok {
			case token.LPAREN, token.LBRACK, token.LBRACE:
				open = append(open, j)
			case token.RPAREN, token.RBRACK, token.RBRACE:
				if len(open) > 0 {
					open = open[:len(open)-1]
				}
			case token.SEMICOLON:
				if len(open) == 0 {
					break scan
				}
			}
		}
		if len(open) > 0 {
			line, col := lineCol(src, toks[open[0]].off)
			return nil, &cellError{cell: n, line: line, col: col, msg: fmt.Sprintf("this %s is not closed", toks[open[0]].tok)}
		}
		end := len(src)
		if j < len(toks) {
			end = toks[j].off
			if toks[j].lit == ";" {
				end++
			}
		}
		items = append(items, item{kind, toks[i].off, min(end, len(src))})
		i = j + 1
	}

	// Consecutive items of one kind make one chunk, text between them (comments) included.
	var chunks []chunk
	for k := 0; k < len(items); {
		m := k
		for m+1 < len(items) && items[m+1].kind == items[k].kind {
			m++
		}
		line, col := lineCol(src, items[k].start)
		c := chunk{kind: items[k].kind, cell: n, line: line, col: col, text: src[items[k].start:items[m].end]}
		if _, err := c.parse(); err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
		k = m + 1
	}
	return chunks, nil
}

// isFuncDecl tells a function or method declaration from a function literal that starts a
// statement (func() { ... }()); at(k) is the k-th token from the func keyword.
func isFuncDecl(at func(int) token.Token) bool {
	switch at(1) {
	case token.IDENT:
		return true // func name(
	case token.LPAREN:
		// func (recv T) Name( is a method; func (params) results { is a literal.
		depth := 0
		for k := 1; ; k++ {
			switch at(k) {
			case token.LPAREN:
				depth++
			case token.RPAREN:
				depth--
				if depth == 0 {
					next := at(k + 2)
					return at(k+1) == token.IDENT && (next == token.LPAREN || next == token.LBRACK)
				}
			case token.EOF:
				return false
			}
		}
	}
	return false
}

func lineCol(src string, off int) (line, col int) {
	line = 1 + strings.Count(src[:off], "\n")
	return line, off - strings.LastIndex(src[:off], "\n")
}

// parsedChunk is a chunk parsed in a small Go file whose positions, through a //line directive,
// are those of the cell.
type parsedChunk struct {
	fset   *token.FileSet
	file   *ast.File
	prefix int // bytes before the chunk text in the parsed source
}

// parse parses the chunk: imports and declarations as a file body, statements as a function body.
func (c *chunk) parse() (*parsedChunk, error) {
	head := "package p\n"
	if c.kind == stmtChunk {
		head += "func _() {\n"
	}
	head += lineDirective(c.cell, c.line, c.col)
	src := head + c.text
	if c.kind == stmtChunk {
		src += "\n}"
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
			p := list[0].Pos
			if p.Filename != cellFile(c.cell) || p.Line > c.line+strings.Count(c.text, "\n") {
				// Past the end of the cell's code: something opened in it is not closed.
				return nil, &cellError{cell: c.cell, line: c.line, msg: fmt.Sprintf("a bracket opened in the code from this line on is not closed (%s)", list[0].Msg)}
			}
			return nil, &cellError{cell: c.cell, line: p.Line, col: p.Column, msg: list[0].Msg}
		}
		return nil, &cellError{cell: c.cell, line: c.line, msg: err.Error()}
	}
	if c.kind == importChunk {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); !ok || g.Tok != token.IMPORT {
				p := fset.Position(d.Pos())
				return nil, &cellError{cell: c.cell, line: p.Line, col: p.Column, msg: "expected only imports here"}
			}
		}
	}
	if c.kind == declChunk {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
				p := fset.Position(fd.Pos())
				return nil, &cellError{cell: c.cell, line: p.Line, col: p.Column,
					msg: "a cell cannot declare func main: the runner's program has it; put the statements at the cell's top level"}
			}
		}
	}
	return &parsedChunk{fset: fset, file: f, prefix: len(head)}, nil
}

// lineDirective makes the next line start at line:col of cell n.
func lineDirective(cell, line, col int) string {
	return fmt.Sprintf("//line %s:%d:%d\n", cellFile(cell), line, col)
}

// body returns the statements of a parsed statement chunk.
func (p *parsedChunk) body() []ast.Stmt {
	for _, d := range p.file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			return fd.Body.List
		}
	}
	return nil
}

// offset converts a position in the parsed source to a byte offset in the chunk text.
func (p *parsedChunk) offset(pos token.Pos) int {
	return p.fset.File(pos).Offset(pos) - p.prefix
}

// importSpec is one import of a cell.
type importSpec struct {
	name, path      string // name is "" when the import has none
	cell, line, col int
}

// pkgName is the name the import binds in the file: its explicit name, or (as a good guess) the
// last path element without a major-version suffix.
func (s importSpec) pkgName() string {
	if s.name != "" {
		return s.name
	}
	base := path.Base(s.path)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(s.path))
	}
	return base
}

func (p *parsedChunk) imports() []importSpec {
	var specs []importSpec
	for _, is := range p.file.Imports {
		pth, _ := strconv.Unquote(is.Path.Value)
		pos := p.fset.Position(is.Pos())
		s := importSpec{path: pth, line: pos.Line, col: pos.Column}
		if is.Name != nil {
			s.name = is.Name.Name
		}
		specs = append(specs, s)
	}
	return specs
}
