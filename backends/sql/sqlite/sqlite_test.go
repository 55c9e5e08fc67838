package sqlite

import (
	"context"
	"errors"
	"path/filepath"
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
	if got := pragma(t, s, "busy_timeout"); got != "10000" {
		t.Errorf("busy_timeout = %s, want 10000", got)
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
		"s.db":                         "s.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)",
		"file:s.db?mode=rwc":           "file:s.db?mode=rwc&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)",
		":memory:":                     ":memory:?_pragma=busy_timeout(10000)",
		"s.db?_pragma=foreign_keys(1)": "s.db?_pragma=foreign_keys(1)",
	} {
		if got := withDefaults(in); got != want {
			t.Errorf("withDefaults(%q) = %q, want %q", in, got, want)
		}
	}
}
