package readme

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var goBlock = regexp.MustCompile("(?s)```go\n(package main\n.*?)```")

// TestQuickStartsBuild builds every complete program in README.md. The
// programs are laid over the examples module with -overlay, so nothing is
// written into the source tree and they resolve the repository's modules.
func TestQuickStartsBuild(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlock.FindAllSubmatch(readme, -1)
	if len(blocks) < 6 {
		t.Fatalf("found %d quick starts in README.md, want one each for net/http, gin, echo, echo5, fiber and fiber3", len(blocks))
	}
	here, _ := os.Getwd()
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	for i, b := range blocks {
		src := filepath.Join(tmp, fmt.Sprintf("qs%d.go", i))
		if err := os.WriteFile(src, b[1], 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(here, fmt.Sprintf("qs%d", i))
		overlay[filepath.Join(dir, "main.go")] = src
		pkgs = append(pkgs, "./"+filepath.Base(dir))
	}
	ov, _ := json.Marshal(map[string]any{"Replace": overlay})
	ovPath := filepath.Join(tmp, "overlay.json")
	os.WriteFile(ovPath, ov, 0o600)
	cmd := exec.Command("go", append([]string{"build", "-overlay", ovPath, "-o", os.DevNull}, pkgs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README quick starts do not build: %v\n%s", err, strings.TrimSpace(string(out)))
	}
}
