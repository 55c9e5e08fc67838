//go:build unix && !solaris && !aix

package filesystem_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestLockFilesStayPut checks that the lock files are a small fixed set
// that Keys never lists and Purge never removes, however old they are.
func TestLockFilesStayPut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newStore(t, dir)
	var want []string
	for i := range 200 {
		key := fmt.Sprintf("session:%03d", i)
		if err := s.SetIf(ctx, key, nil, []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		want = append(want, key)
	}
	locks, _ := filepath.Glob(filepath.Join(dir, ".lock-*"))
	if len(locks) == 0 || len(locks) > 32 {
		t.Fatalf("%d lock files for 200 keys, want between 1 and 32", len(locks))
	}
	old := time.Now().Add(-48 * time.Hour)
	for _, l := range locks {
		os.Chtimes(l, old, old)
	}

	var got []string
	for k, err := range s.Keys(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Keys lists %d names, want the %d keys alone", len(got), len(want))
	}
	if n, err := s.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("Purge = %d, %v; want 0 removed", n, err)
	}
	after, _ := filepath.Glob(filepath.Join(dir, ".lock-*"))
	if len(after) != len(locks) {
		t.Fatalf("%d lock files after Purge, want %d", len(after), len(locks))
	}
}
