package filesystem_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

func newStore(t *testing.T, dir string) *filesystem.Store {
	t.Helper()
	s, err := filesystem.New(dir, filesystem.Options{PurgeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, newStore(t, t.TempDir()))
}

func TestOwnerOnlyPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	s := newStore(t, dir)
	if err := s.Set(context.Background(), "session:x", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(dir)
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("folder mode %o, want 700", perm)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d files, want 1 (no temporary files left)", len(entries))
	}
	finfo, _ := entries[0].Info()
	if perm := finfo.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %o, want 600", perm)
	}
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newStore(t, dir)
	s.Set(ctx, "gone:1", []byte("v"), time.Second)
	s.Set(ctx, "gone:2", []byte("v"), time.Second)
	s.Set(ctx, "kept", []byte("v"), time.Hour)
	s.Set(ctx, "forever", []byte("v"), 0)
	stale := filepath.Join(dir, ".tmp-crashed")
	os.WriteFile(stale, []byte("partial"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)

	time.Sleep(1100 * time.Millisecond)
	n, err := s.Purge(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2 removed", n, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d files after purge, want 2 (kept, forever)", len(entries))
	}
}

func TestBackgroundPurge(t *testing.T) {
	dir := t.TempDir()
	s, err := filesystem.New(dir, filesystem.Options{PurgeInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Set(context.Background(), "gone", []byte("v"), time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the background purge did not remove the expired file")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSharedFolder runs two stores, as two processes would, on one folder:
// readers never see a partial value and purges never remove live data.
func TestSharedFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := newStore(t, dir), newStore(t, dir)
	values := [][]byte{make([]byte, 64<<10), make([]byte, 64<<10)}
	for i := range values[1] {
		values[0][i], values[1][i] = 'a', 'b'
	}
	a.Set(ctx, "shared", values[0], time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := []*filesystem.Store{a, b}[w%2]
			for i := range 50 {
				if err := st.Set(ctx, "shared", values[i%2], time.Hour); err != nil {
					errs <- err
					return
				}
				got, err := st.Get(ctx, "shared")
				if err != nil || len(got) != len(values[0]) || (got[0] != got[len(got)-1]) {
					errs <- errors.New("partial or missing value")
					return
				}
				if _, err := st.Purge(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := a.Get(ctx, "shared"); err != nil {
		t.Fatalf("live value gone after concurrent purges: %v", err)
	}
}

func TestKeyTooLong(t *testing.T) {
	s := newStore(t, t.TempDir())
	long := string(make([]byte, 500))
	if err := s.Set(context.Background(), long, []byte("v"), time.Hour); !errors.Is(err, filesystem.ErrKeyTooLong) {
		t.Fatalf("Set of a 500-byte key: %v, want ErrKeyTooLong", err)
	}
	if _, err := s.Get(context.Background(), "session:"+string(rune(0))+"/../x"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("odd key: %v, want ErrNotFound (keys never become paths)", err)
	}
}

func TestUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores permissions; use a path below a regular file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		if _, err := filesystem.New(filepath.Join(f, "sub"), filesystem.Options{}); err == nil {
			t.Fatal("New below a regular file succeeded")
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	s := newStore(t, dir)
	if err := s.Set(context.Background(), "k", []byte("v"), time.Hour); err == nil {
		t.Fatal("Set into a read-only folder succeeded")
	}
}
