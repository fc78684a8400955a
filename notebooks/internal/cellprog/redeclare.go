package cellprog

import (
	"go/ast"
	"go/token"
)

// Redeclare removes from the cells before the one labelled label every function, method, type
// and constant that this cell declares again, so the new declaration replaces the old one, as in
// a Go kernel when an edited cell runs again. A const or type group that holds a redeclared name is
// removed whole. The removed text becomes blank, so lines and positions stay where they were.
// It returns the number of declarations removed.
func (p *Program) Redeclare(label int) int {
	ci := p.index(label)
	if ci < 0 {
		return 0
	}
	names := map[string]bool{}
	for _, c := range p.cells[ci] {
		if c.kind != declChunk {
			continue
		}
		pc, err := c.parse()
		if err != nil {
			continue
		}
		for _, d := range pc.file.Decls {
			for _, n := range declNames(d) {
				names[n] = true
			}
		}
	}
	if len(names) == 0 {
		return 0
	}
	removed := 0
	for i := 0; i < ci; i++ {
		for k := range p.cells[i] {
			c := &p.cells[i][k]
			if c.kind != declChunk {
				continue
			}
			pc, err := c.parse()
			if err != nil {
				continue
			}
			text := []byte(c.text)
			for _, d := range pc.file.Decls {
				hit := false
				for _, n := range declNames(d) {
					hit = hit || names[n]
				}
				if !hit {
					continue
				}
				start, end := pc.offset(d.Pos()), pc.offset(d.End())
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc != nil {
					start = pc.offset(fd.Doc.Pos())
				}
				for j := max(start, 0); j < end && j < len(text); j++ {
					if text[j] != '\n' {
						text[j] = ' '
					}
				}
				removed++
			}
			c.text = string(text)
		}
	}
	return removed
}

// declNames returns the names a package-level declaration binds; a method is named Recv.Name.
func declNames(d ast.Decl) []string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv != nil && len(d.Recv.List) > 0 {
			return []string{recvName(d.Recv.List[0].Type) + "." + d.Name.Name}
		}
		return []string{d.Name.Name}
	case *ast.GenDecl:
		var names []string
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				names = append(names, s.Name.Name)
			case *ast.ValueSpec:
				if d.Tok == token.CONST || d.Tok == token.VAR {
					for _, n := range s.Names {
						names = append(names, n.Name)
					}
				}
			}
		}
		return names
	}
	return nil
}

func recvName(t ast.Expr) string {
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
