package main

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

// writeTree creates the files of tree (slash-separated path: content) under
// a new temporary directory and returns it.
func writeTree(t *testing.T, tree map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range tree {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// zipNames returns the names of the files in the zip archive at p.
func zipNames(t *testing.T, p string) []string {
	t.Helper()
	r, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

// A root module with a nested one, an unpublished example module and a
// hidden directory. The upper case letter in the path tests the escaping.
var tree = map[string]string{
	"go.mod":           "module example.com/Lib\n\ngo 1.24\n",
	"lib.go":           "package lib\n",
	"inner/inner.go":   "package inner\n",
	"sub/go.mod":       "module example.com/Lib/sub\n\ngo 1.24\n\nrequire example.com/Lib v0.2.0\n\nreplace example.com/Lib => ../\n",
	"sub/sub.go":       "package sub\n",
	"examples/go.mod":  "module example.com/Lib/examples\n\ngo 1.24\n\nrequire example.com/Lib/sub v0.2.0\n",
	"examples/main.go": "package main\n\nfunc main() {}\n",
	".hidden/go.mod":   "module example.com/hidden\n",
}

func TestPack(t *testing.T) {
	root := writeTree(t, tree)
	out := t.TempDir()
	got, err := pack(root, "v0.2.0", out)
	if err != nil {
		t.Fatal(err)
	}
	want := []packed{
		{mod: module.Version{Path: "example.com/Lib", Version: "v0.2.0"}, tag: "v0.2.0"},
		{mod: module.Version{Path: "example.com/Lib/sub", Version: "v0.2.0"}, tag: "sub/v0.2.0"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("packed %v, want %v", got, want)
	}

	for _, m := range []struct{ dir, gomod string }{
		{"example.com/!lib/@v", "go.mod"},
		{"example.com/!lib/sub/@v", "sub/go.mod"},
	} {
		at := filepath.Join(out, filepath.FromSlash(m.dir))
		if list := read(t, filepath.Join(at, "list")); list != "v0.2.0\n" {
			t.Errorf("%s/list = %q, want %q", m.dir, list, "v0.2.0\n")
		}
		var info struct{ Version, Time string }
		if err := json.Unmarshal([]byte(read(t, filepath.Join(at, "v0.2.0.info"))), &info); err != nil {
			t.Errorf("%s/v0.2.0.info: %v", m.dir, err)
		}
		if info.Version != "v0.2.0" || info.Time == "" {
			t.Errorf("%s/v0.2.0.info = %+v, want version v0.2.0 and a time", m.dir, info)
		}
		if mod := read(t, filepath.Join(at, "v0.2.0.mod")); mod != tree[m.gomod] {
			t.Errorf("%s/v0.2.0.mod = %q, want %q", m.dir, mod, tree[m.gomod])
		}
	}

	// The zips name files by the unescaped path. The nested module's files
	// are not in the root module's zip, nor are the other modules'.
	rootZip := zipNames(t, filepath.Join(out, "example.com", "!lib", "@v", "v0.2.0.zip"))
	wantRoot := []string{
		"example.com/Lib@v0.2.0/go.mod",
		"example.com/Lib@v0.2.0/inner/inner.go",
		"example.com/Lib@v0.2.0/lib.go",
	}
	if !slices.Equal(rootZip, wantRoot) {
		t.Errorf("root zip holds %q, want %q", rootZip, wantRoot)
	}
	subZip := zipNames(t, filepath.Join(out, "example.com", "!lib", "sub", "@v", "v0.2.0.zip"))
	wantSub := []string{"example.com/Lib/sub@v0.2.0/go.mod", "example.com/Lib/sub@v0.2.0/sub.go"}
	if !slices.Equal(subZip, wantSub) {
		t.Errorf("sub zip holds %q, want %q", subZip, wantSub)
	}
	if _, err := os.Stat(filepath.Join(out, "example.com", "!lib", "examples")); err == nil {
		t.Error("the examples module was packed")
	}

	// Packing another version keeps the first in the list.
	if _, err := pack(root, "v0.10.0", out); err == nil {
		t.Fatal("packed v0.10.0 although sub requires v0.2.0")
	}
	for name, content := range map[string]string{
		"sub/go.mod":      strings.ReplaceAll(tree["sub/go.mod"], "v0.2.0", "v0.10.0"),
		"examples/go.mod": strings.ReplaceAll(tree["examples/go.mod"], "v0.2.0", "v0.10.0"),
	} {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pack(root, "v0.10.0", out); err != nil {
		t.Fatal(err)
	}
	if list := read(t, filepath.Join(out, "example.com", "!lib", "@v", "list")); list != "v0.2.0\nv0.10.0\n" {
		t.Errorf("list after two versions = %q", list)
	}
}

func TestPackRejectsOtherVersions(t *testing.T) {
	bad := map[string]string{}
	for name, content := range tree {
		bad[name] = content
	}
	bad["sub/go.mod"] = strings.ReplaceAll(tree["sub/go.mod"], "v0.2.0", "v0.0.0-00010101000000-000000000000")
	bad["examples/go.mod"] = strings.ReplaceAll(tree["examples/go.mod"], "v0.2.0", "v0.0.0")
	out := t.TempDir()
	_, err := pack(writeTree(t, bad), "v0.2.0", out)
	if err == nil {
		t.Fatal("pack accepted modules that require siblings at other versions")
	}
	for _, want := range []string{
		"sub/go.mod: requires example.com/Lib v0.0.0-00010101000000-000000000000, want v0.2.0",
		"examples/go.mod: requires example.com/Lib/sub v0.0.0, want v0.2.0",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("pack wrote %d entries into outdir before failing", len(entries))
	}
}

func TestPackRejectsBadArguments(t *testing.T) {
	root := writeTree(t, tree)
	if _, err := pack(root, "v0.2", t.TempDir()); err == nil {
		t.Error("pack accepted version v0.2")
	}
	if _, err := pack(root, "v0.2.0", filepath.Join(root, "proxy")); err == nil {
		t.Error("pack accepted an outdir inside the root")
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
