package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPreviousTag(t *testing.T) {
	tags := []string{
		"v0.1.0", "v0.2.0", "v0.2.1", "v0.3.0-rc.1", "v0.3.0", "v1.0", "latest",
		"adapters/gin/v0.2.0", "adapters/gin/v0.2.5", "adapters/gin/v0.3.0",
		"adapters/gin2/v0.2.9", "backends/v0.2.7",
	}
	for _, tc := range []struct{ dir, version, want string }{
		{"", "v0.3.0", "v0.2.1"}, // the release's own tag and its candidate are not previous
		{"", "v0.3.1", "v0.3.0"}, // newer than its prerelease
		{"", "v0.1.0", ""},       // first release
		{"adapters/gin", "v0.3.0", "adapters/gin/v0.2.5"},
		{"adapters/gin", "v0.2.9", "adapters/gin/v0.2.5"}, // not gin2's
		{"adapters/echo", "v0.3.0", ""},                   // no tag of its own: the root's do not count
		{"backends/redis", "v0.3.0", ""},                  // not the tag of a parent directory
	} {
		if got := previousTag(tags, tc.dir, tc.version); got != tc.want {
			t.Errorf("previousTag(%q, %s) = %q, want %q", tc.dir, tc.version, got, tc.want)
		}
	}
}

func TestBreakingAllowed(t *testing.T) {
	for _, tc := range []struct {
		base, release string
		want          bool
	}{
		{"v0.1.0", "v0.1.1", false},
		{"v0.1.0", "v0.2.0", true},
		{"v0.1.3", "v0.2.0-rc.1", true},
		{"v0.9.0", "v1.0.0", true},
		{"v1.2.0", "v1.3.0", false},
		{"v1.2.0", "v1.2.1", false},
		{"v1.2.0", "v2.0.0", true},
	} {
		if got := breakingAllowed(tc.base, tc.release); got != tc.want {
			t.Errorf("breakingAllowed(%s, %s) = %t, want %t", tc.base, tc.release, got, tc.want)
		}
	}
}

// TestCompat makes a git repository of three modules: the root, tagged
// v0.1.0, then changed incompatibly; sub, tagged sub/v0.1.0, then given a
// new function; and new, never tagged.
func TestCompat(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git:", err)
	}
	repo := writeTree(t, map[string]string{
		"go.mod":                 "module example.com/lib\n\ngo 1.24\n",
		"lib.go":                 "package lib\n\nfunc A() {}\n",
		"internal/priv/priv.go":  "package priv\n\nfunc P() {}\n",
		"cmd/tool/main.go":       "package main\n\nfunc Helper() {}\n\nfunc main() {}\n",
		"sub/go.mod":             "module example.com/lib/sub\n\ngo 1.24\n",
		"sub/sub.go":             "package sub\n\nfunc S() {}\n",
		"extra/go.mod":           "module example.com/lib/extra\n\ngo 1.24\n",
		"extra/extra.go":         "package extra\n",
		"examples/go.mod":        "module example.com/lib/examples\n\ngo 1.24\n",
		"examples/examples.go":   "package examples\n\nfunc E() {}\n",
		"testdata/broken/x.go":   "package broken\n\nthis does not compile\n",
		"sub/testdata/old/x.txt": "kept out of the module\n",
	})
	runGit(t, repo, "init", "-q")
	runGit(t, repo, "add", ".")
	runGit(t, repo, "commit", "-q", "-m", "first")
	runGit(t, repo, "tag", "v0.1.0")
	runGit(t, repo, "tag", "sub/v0.1.0")

	// Removed: A (incompatible). Internal packages, commands and
	// unpublished modules change freely.
	for name, content := range map[string]string{
		"lib.go":                "package lib\n\nfunc B() {}\n",
		"internal/priv/priv.go": "package priv\n",
		"cmd/tool/main.go":      "package main\n\nfunc main() {}\n",
		"sub/sub.go":            "package sub\n\nfunc S() {}\n\nfunc T() {}\n",
		"examples/examples.go":  "package examples\n",
	} {
		if err := os.WriteFile(filepath.Join(repo, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runGit(t, repo, "commit", "-q", "-a", "-m", "second")
	runGit(t, repo, "tag", "v0.2.0-rc.1") // a prerelease is not what v0.1.1 or v0.2.0 is compared against

	ctx := context.Background()
	var out strings.Builder
	err := compat(ctx, &out, repo, repo, "v0.1.1")
	t.Logf("v0.1.1:\n%s", out.String())
	if err == nil {
		t.Fatal("compat accepted removing A in v0.1.1")
	}
	if want := "example.com/lib: 1 incompatible API changes since v0.1.0, which v0.1.1 does not allow"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if strings.Contains(err.Error(), "sub") {
		t.Errorf("error %q blames sub, whose change is compatible", err)
	}
	for _, want := range []string{
		"example.com/lib v0.1.1 against v0.1.0: 1 incompatible and 1 compatible changes\n",
		"  ! A: removed\n",
		"  + B: added\n",
		"example.com/lib/sub v0.1.1 against sub/v0.1.0: 0 incompatible and 1 compatible changes\n",
		"  + T: added\n",
		"first release of example.com/lib/extra, no API to compare\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not have %q", want)
		}
	}
	for _, unwanted := range []string{"priv", "Helper", "examples"} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("output mentions %s, which is not part of the API", unwanted)
		}
	}

	out.Reset()
	if err := compat(ctx, &out, repo, repo, "v0.2.0"); err != nil {
		t.Errorf("compat refused v0.2.0, a minor bump: %v", err)
	}
	if !strings.Contains(out.String(), "example.com/lib v0.2.0 against v0.1.0: 1 incompatible") {
		t.Errorf("v0.2.0's output does not report the incompatible change:\n%s", out.String())
	}

	// release-check compares a copy of the release's files, without .git,
	// with the tags of the repository.
	files := filepath.Join(t.TempDir(), "files")
	if err := os.CopyFS(files, os.DirFS(repo)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(files, ".git")); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := compat(ctx, &out, files, repo, "v0.1.1"); err == nil || !strings.Contains(out.String(), "  ! A: removed\n") {
		t.Errorf("compat of a copy at v0.1.1 = %v, want the same failure; output:\n%s", err, out.String())
	}
	if err := compat(ctx, &out, files, files, "v0.2.0"); err == nil {
		t.Error("compat ran with a repo that is no git repository")
	}
}

// runGit runs git with args in dir, as a user without any configuration.
func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{
		"-c", "user.name=release test", "-c", "user.email=release@example.com",
		"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
	}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
