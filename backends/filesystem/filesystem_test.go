package filesystem_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

func newStore(t *testing.T, dir string) *filesystem.Store {
	t.Helper()
	s, err := filesystem.New(dir, filesystem.Options{CleanupInterval: -1})
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
	if err := s.SetIf(context.Background(), "session:y", nil, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if files := dataFiles(t, dir); len(files) != 2 {
		t.Fatalf("files %q, want the 2 sessions alone", files)
	}
	entries, _ = os.ReadDir(dir) // with the lock file, where there is one
	for _, e := range entries {
		finfo, _ := e.Info()
		if perm := finfo.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %o, want 600", e.Name(), perm)
		}
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
	if files := dataFiles(t, dir); len(files) != 2 {
		t.Fatalf("files after purge: %q, want 2 (kept, forever)", files)
	}
}

// dataFiles lists the files of dir other than the lock files, which are
// there to stay.
func dataFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".lock-") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestBackgroundPurge(t *testing.T) {
	dir := t.TempDir()
	s, err := filesystem.New(dir, filesystem.Options{CleanupInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Set(context.Background(), "gone", []byte("v"), time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if len(dataFiles(t, dir)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the background purge did not remove the expired file")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer is a log destination that the background purge may write
// while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBackgroundPurgeFailureIsLogged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	var logs lockedBuffer
	s, err := filesystem.New(dir, filesystem.Options{
		CleanupInterval: 10 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.RemoveAll(dir); err != nil { // every purge now fails to list it
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out := logs.String()
		if strings.Contains(out, "background purge failed") && strings.Contains(out, "level=ERROR") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no purge failure logged within 5s; log: %q", out)
		}
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

// Errors name the key, which the core replaces by its LogID, and never the
// file's path, which holds the key in base64, where nobody would hide it.
func TestErrorsHideThePath(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	key := "session:an-id-that-must-not-leak"
	file := filepath.Join(dir, "s"+base64.RawURLEncoding.EncodeToString([]byte(key)))
	// A directory in the way of the key's file, dated as a live session.
	if err := os.Mkdir(file, 0o700); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(file, future, future); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(context.Background(), key)
	if err == nil || errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get of a directory: %v, want a failure", err)
	}
	if strings.Contains(err.Error(), filepath.Base(file)) || strings.Contains(err.Error(), dir) {
		t.Errorf("error shows the file's path: %v", err)
	}
}
