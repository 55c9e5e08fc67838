package recipes

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docs is where the recipes' Markdown lives, relative to this package.
const docs = "../../docs/recipes"

// recipes maps each recipe's Markdown file to the package under
// examples/recipes whose source its code blocks quote.
var recipes = map[string]string{
	"remember-me.md":                 "rememberme",
	"login-logout.md":                "loginlogout",
	"log-out-everywhere.md":          "logouteverywhere",
	"header-tokens.md":               "headertokens",
	"websockets.md":                  "websockets",
	"background-jobs.md":             "backgroundjobs",
	"several-sessions.md":            "severalsessions",
	"behind-a-proxy.md":              "behindaproxy",
	"choosing-a-backend.md":          "choosingabackend",
	"moving-from-other-libraries.md": "migrating",
}

// fence finds fenced code blocks: the info string and the content.
var fence = regexp.MustCompile("(?ms)^```([^\n]*)\n(.*?)^```[ \t]*$")

// TestRecipesQuoteTheirSource fails when a recipe's code block is not, byte
// for byte, a run of whole top-level declarations (with their comments) of
// a Go file of the recipe's package, or a whole file: the code readers copy
// is the code the examples compile and run. Every block must be Go, so
// that every block is compiled.
func TestRecipesQuoteTheirSource(t *testing.T) {
	for md, dir := range recipes {
		t.Run(md, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join(docs, md))
			if err != nil {
				t.Fatal(err)
			}
			files := sources(t, dir)
			blocks := fence.FindAllSubmatch(doc, -1)
			if len(blocks) == 0 {
				t.Fatalf("%s quotes no code of %s", md, dir)
			}
			for _, b := range blocks {
				lang, code := string(bytes.TrimSpace(b[1])), b[2]
				line := 1 + bytes.Count(doc[:bytes.Index(doc, b[0])], []byte("\n"))
				if lang != "go" {
					t.Errorf("%s:%d: a ```%s block: every block must be Go quoted from examples/recipes/%s", md, line, lang, dir)
					continue
				}
				if !quotes(files, code) {
					t.Errorf("%s:%d: this block is not a run of whole declarations of any .go file in examples/recipes/%s; copy it again from the source:\n%s",
						md, line, dir, firstLines(code, 3))
				}
			}
		})
	}
}

// TestEveryRecipeIsListed fails when a recipe's Markdown or package has no
// counterpart, or the index does not link a recipe.
func TestEveryRecipeIsListed(t *testing.T) {
	mds, _ := filepath.Glob(filepath.Join(docs, "*.md"))
	index, err := os.ReadFile(filepath.Join(docs, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range mds {
		md := filepath.Base(path)
		if md == "README.md" {
			continue
		}
		if _, ok := recipes[md]; !ok {
			t.Errorf("docs/recipes/%s is not in this test's table: its code would go unchecked", md)
		}
		if !bytes.Contains(index, []byte("("+md+")")) {
			t.Errorf("docs/recipes/README.md does not link %s", md)
		}
	}
	dirs, _ := os.ReadDir(".")
	for _, d := range dirs {
		if d.IsDir() && !slices.Contains(slices.Collect(maps.Values(recipes)), d.Name()) {
			t.Errorf("examples/recipes/%s belongs to no recipe in this test's table", d.Name())
		}
	}
}

// link finds Markdown links and their targets.
var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestRecipeLinksResolve fails on a relative link in docs/recipes that
// names no file: a moved guide or a renamed example.
func TestRecipeLinksResolve(t *testing.T) {
	mds, _ := filepath.Glob(filepath.Join(docs, "*.md"))
	for _, path := range mds {
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllSubmatch(doc, -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), target)); err != nil {
				t.Errorf("%s links %s, which does not exist", filepath.Base(path), m[1])
			}
		}
	}
}

// source is one Go file and the offsets at which a quote may begin and
// end: the start of the file and of each top-level declaration (its doc
// comment included), and the end of each declaration's last line.
type source struct {
	text         []byte
	starts, ends []int
}

func sources(t *testing.T, dir string) []source {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	if len(paths) == 0 {
		t.Fatalf("examples/recipes/%s holds no Go file", dir)
	}
	var out []source
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, text, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		s := source{text: text, starts: []int{0}, ends: []int{len(text)}}
		for _, d := range f.Decls {
			start := d.Pos()
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Doc != nil {
					start = d.Doc.Pos()
				}
			case *ast.GenDecl:
				if d.Doc != nil {
					start = d.Doc.Pos()
				}
			}
			begin := fset.Position(start).Offset
			begin = bytes.LastIndexByte(text[:begin], '\n') + 1
			end := fset.Position(d.End()).Offset
			if nl := bytes.IndexByte(text[end:], '\n'); nl >= 0 {
				end += nl + 1
			} else {
				end = len(text)
			}
			s.starts, s.ends = append(s.starts, begin), append(s.ends, end)
		}
		out = append(out, s)
	}
	return out
}

// quotes reports whether code is a run of whole declarations of one of
// files.
func quotes(files []source, code []byte) bool {
	for _, f := range files {
		for _, s := range f.starts {
			if bytes.HasPrefix(f.text[s:], code) && slices.Contains(f.ends, s+len(code)) {
				return true
			}
		}
	}
	return false
}

func firstLines(b []byte, n int) string {
	lines := strings.SplitN(string(b), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
