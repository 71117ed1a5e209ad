package docgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
)

// parseFile parses one Go source file of the module, with its comments.
func parseFile(root, rel string) (*token.FileSet, *ast.File, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, filepath.FromSlash(rel)), nil, parser.ParseComments)
	if err != nil {
		return nil, nil, fmt.Errorf("docgen: %w", err)
	}
	return fset, f, nil
}

// constDocs returns the doc comment of every string constant of type typeName
// declared in the file, keyed by the constant's value (Guard "resend_budget" ->
// "ResendBudget: resends of ...").
func constDocs(f *ast.File, typeName string) map[string]string {
	out := map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			id, ok := vs.Type.(*ast.Ident)
			if !ok || id.Name != typeName || vs.Doc == nil {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if val, err := strconv.Unquote(lit.Value); err == nil {
					out[val] = oneLine(vs.Doc.Text())
				}
			}
		}
	}
	return out
}

// structType returns the named struct type declared in the file.
func structType(f *ast.File, name string) (*ast.StructType, string, bool) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			if ts.Name.Name != name {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			doc := ""
			if gd.Doc != nil {
				doc = gd.Doc.Text()
			}
			if ts.Doc != nil {
				doc = ts.Doc.Text()
			}
			return st, doc, ok
		}
	}
	return nil, "", false
}

// funcDecl returns the top-level function of that name.
func funcDecl(f *ast.File, name string) *ast.FuncDecl {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == name {
			return fd
		}
	}
	return nil
}
