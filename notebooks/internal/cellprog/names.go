package cellprog

import (
	"go/ast"
	"slices"
)

// Names returns the names the program's cells bind for later cells: variables, functions,
// types and constants, sorted, each once.
func (p *Program) Names() []string {
	var names []string
	for _, chunks := range p.cells {
		for _, c := range chunks {
			pc, err := c.parse()
			if err != nil {
				continue
			}
			switch c.kind {
			case declChunk:
				for _, d := range pc.file.Decls {
					if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
						continue
					}
					names = append(names, declNames(d)...)
				}
			case stmtChunk:
				for _, st := range pc.body() {
					names = append(names, definedNames(st)...)
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Imports returns the packages the cells import, by the name they are used under. The display
// package is there as display, as every cell sees it.
func (p *Program) Imports() map[string]string {
	m := map[string]string{"display": displayPath}
	for _, chunks := range p.cells {
		for _, c := range chunks {
			if c.kind != importChunk {
				continue
			}
			if pc, err := c.parse(); err == nil {
				for _, s := range pc.imports() {
					if n := s.pkgName(); n != "_" && n != "." {
						m[n] = s.path
					}
				}
			}
		}
	}
	return m
}
