package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/core"
)

func open(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func pragma(t *testing.T, s *sqlstore.Store, name string) string {
	t.Helper()
	var v string
	if err := s.DB().QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenFileDefaults(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	if got := pragma(t, s, "busy_timeout"); got != strconv.Itoa(BusyTimeout) {
		t.Errorf("busy_timeout = %s, want %d", got, BusyTimeout)
	}
	if n := s.DB().Stats().MaxOpenConnections; n != sqlstore.DefaultMaxOpenConns {
		t.Errorf("MaxOpenConnections = %d, want %d", n, sqlstore.DefaultMaxOpenConns)
	}
	if got := pragma(t, s, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %s, want wal", got)
	}
}

// TestOpenOwnPragmas: a DSN that sets pragmas keeps exactly those.
func TestOpenOwnPragmas(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "s.db")+"?_pragma=busy_timeout(5)")
	if got := pragma(t, s, "busy_timeout"); got != "5" {
		t.Errorf("busy_timeout = %s, want 5", got)
	}
	if got := pragma(t, s, "journal_mode"); got == "wal" {
		t.Errorf("journal_mode = %s, want the default", got)
	}
}

// TestOpenMemory: an in-memory database is one connection's, so the
// Store must keep it to one connection, even under concurrent use.
func TestOpenMemory(t *testing.T) {
	s := open(t, ":memory:")
	if n := s.DB().Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("MaxOpenConnections = %d, want 1", n)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := string(rune('a' + i))
			if err := s.SetIf(ctx, key, nil, []byte("v"), time.Hour); err != nil {
				errs <- err
				return
			}
			if _, err := s.Get(ctx, key); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "missing", "dir", "s.db"), sqlstore.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	if errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Open: %v", err)
	}
	t.Logf("Open: %v", err)
}

func TestOpenCloses(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Ping(); err == nil {
		t.Error("the database is still open after Close")
	}
}

func TestTrimScheme(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:///tmp/s.db": "/tmp/s.db",
		"SQLite3://s.db":     "s.db",
		"sqlite:s.db":        "s.db",
		"file:s.db?mode=rwc": "file:s.db?mode=rwc",
		"./data/sessions.db": "./data/sessions.db",
		":memory:":           ":memory:",
		"sqlite::memory:":    ":memory:",
	} {
		if got := trimScheme(in); got != want {
			t.Errorf("trimScheme(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	for in, want := range map[string]string{
		"s.db":                         "s.db?_pragma=busy_timeout(400)&_pragma=journal_mode(WAL)",
		"file:s.db?mode=rwc":           "file:s.db?mode=rwc&_pragma=busy_timeout(400)&_pragma=journal_mode(WAL)",
		":memory:":                     ":memory:?_pragma=busy_timeout(400)",
		"s.db?_pragma=foreign_keys(1)": "s.db?_pragma=foreign_keys(1)",
	} {
		if got := withDefaults(in); got != want {
			t.Errorf("withDefaults(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLockedDatabase has another process's transaction hold the write
// lock of the database: writes through a Store made by Open fail within 2
// seconds, since SQLite's wait for the lock does not end with the context:
// one at a time, 20 at once, and 20 at once through a Manager. Reads,
// which WAL journaling lets through, still succeed.
func TestLockedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	ctx := context.Background()
	if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	lockHeld(t, path)

	start := time.Now()
	err := s.Set(ctx, "k", []byte("w"), time.Hour)
	checkFailedFast(t, "Set", time.Since(start), err, false)
	t.Logf("Set on a locked database failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Errorf("Get on a locked database = %q, %v; want the committed value", v, err)
	}

	slowest := concurrently(t, func(i int) (string, error) {
		return "SetIf", s.SetIf(ctx, "k"+strconv.Itoa(i), nil, []byte("v"), time.Hour)
	})
	t.Logf("20 concurrent SetIf on a locked database: slowest failed after %v", slowest.Round(time.Millisecond))
	m := core.NewManager(s)
	slowest = concurrently(t, func(int) (string, error) {
		sess := m.New(ctx)
		sess.Set("user", "bob")
		_, err := m.Save(ctx, sess)
		return "Manager.Save", err
	})
	t.Logf("20 concurrent Manager.Save on a locked database: slowest failed after %v", slowest.Round(time.Millisecond))
}

// concurrently makes 20 calls at once, checks that each failed fast, and
// returns the longest any took.
func concurrently(t *testing.T, call func(i int) (what string, err error)) time.Duration {
	t.Helper()
	var mu sync.Mutex
	var slowest time.Duration
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			what, err := call(i)
			took := time.Since(start)
			checkFailedFast(t, what, took, err, strings.HasPrefix(what, "Manager."))
			mu.Lock()
			slowest = max(slowest, took)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return slowest
}

// checkFailedFast fails the test unless err is an error that came within
// 2 seconds, one matching core.ErrBackend (a 503) from a Manager.
func checkFailedFast(t *testing.T, what string, took time.Duration, err error, manager bool) {
	t.Helper()
	const within = 2 * time.Second
	switch {
	case err == nil || took > within:
		t.Errorf("%s on a locked database: %v after %v, want an error within %v", what, err, took, within)
	case errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict):
		t.Errorf("%s on a locked database: %v, want a backend error, not absent or changed", what, err)
	case manager && !errors.Is(err, core.ErrBackend):
		t.Errorf("%s on a locked database: %v, want an error matching core.ErrBackend (503)", what, err)
	}
}

// TestOpenWhileLocked: Open turns a file into WAL mode, which takes its
// write lock. SQLite does not wait for that lock under the busy timeout
// (it asks for it while holding a read lock), so, while another process
// holds it, the connection fails with "database is locked" at once: Open
// tries again, and succeeds once the lock is free.
func TestOpenWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	release := lockHeld(t, path) // the file is new: not in WAL mode
	const held = 300 * time.Millisecond
	time.AfterFunc(held, release)
	start := time.Now()
	s := open(t, path)
	if took := time.Since(start); took < held {
		t.Errorf("Open returned after %v, while the lock was held for %v", took, held)
	}
	if got := pragma(t, s, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %s, want wal", got)
	}
}

// lockHeld takes the write lock of the database at path through a
// connection of its own, as another process would, until the test ends
// or release is called.
func lockHeld(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() { _, _ = conn.ExecContext(context.Background(), "ROLLBACK") })
	}
	t.Cleanup(release)
	return release
}
