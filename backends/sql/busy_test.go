package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// holdWriteLock takes the write lock of the SQLite file at path through a
// connection of its own, as another process would, and returns the
// function that releases it (also called when the test ends).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db := openDB(t, SQLite, path)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	release = func() {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		_ = conn.Close()
	}
	t.Cleanup(release)
	return release
}

// noBusyTimeout is a SQLite DSN suffix without a busy timeout: SQLite
// fails at once on a locked database.
const noBusyTimeout = "?_pragma=journal_mode(WAL)"

// TestSQLiteCreateTableWaitsForLock: CreateTable on SQLite waits for
// another connection's write lock, even without a busy timeout.
func TestSQLiteCreateTableWaitsForLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openDB(t, SQLite, path+noBusyTimeout)
	release := holdWriteLock(t, path)
	const held = 300 * time.Millisecond
	time.AfterFunc(held, release)
	s, err := New(db, SQLite, Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.CreateTable(context.Background()); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if took := time.Since(start); took < held {
		t.Errorf("CreateTable returned after %v, while the lock was held for %v", took, held)
	}
	if err := s.Set(context.Background(), "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteCreateTableLockedEndsWithContext: while the lock stays taken,
// CreateTable fails, with SQLite's error, when its context ends.
func TestSQLiteCreateTableLockedEndsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openDB(t, SQLite, path+noBusyTimeout)
	holdWriteLock(t, path)
	s, err := New(db, SQLite, Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.CreateTable(ctx)
	took := time.Since(start)
	if err == nil || !sqliteBusy(err) || took > 2*time.Second {
		t.Fatalf("CreateTable on a locked database: %v after %v, want database is locked within 2s", err, took)
	}
	t.Logf("CreateTable on a locked database: %v after %v", err, took.Round(time.Millisecond))
}

// TestSQLiteCreateTableFailureEndsTransaction: when CreateTable fails
// within its transaction, the transaction ends with it, rather than
// keeping the write lock on a pooled connection.
func TestSQLiteCreateTableFailureEndsTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openDB(t, SQLite, path+noBusyTimeout)
	db.SetMaxOpenConns(1)
	s, err := New(db, SQLite, Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	// An index by the table's name: CREATE TABLE fails.
	if _, err := db.Exec("CREATE TABLE other (x); CREATE INDEX " + DefaultTable.Name + " ON other (x)"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTable(context.Background()); err == nil {
		t.Fatal("CreateTable succeeded with an index by the table's name")
	}
	other := openDB(t, SQLite, path+noBusyTimeout)
	if _, err := other.Exec("BEGIN IMMEDIATE; ROLLBACK"); err != nil {
		t.Fatalf("the write lock is still held after CreateTable failed: %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM other").Scan(&n); err != nil {
		t.Fatalf("the Store's connection after CreateTable failed: %v", err)
	}
}

func TestSQLiteBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openDB(t, SQLite, path+noBusyTimeout)
	holdWriteLock(t, path)
	_, err := db.Exec("BEGIN IMMEDIATE")
	if err == nil {
		t.Fatal("BEGIN IMMEDIATE on a locked database succeeded")
	}
	for _, err := range []error{
		err,
		fmt.Errorf("wrapped: %w", err),
		errors.New("database is locked"), // another driver's
	} {
		if !sqliteBusy(err) {
			t.Errorf("sqliteBusy(%v) = false", err)
		}
	}
	_, err = db.Exec("SELECT * FROM missing")
	for _, err := range []error{err, errors.New("database table is locked"), sql.ErrConnDone} {
		if sqliteBusy(err) {
			t.Errorf("sqliteBusy(%v) = true", err)
		}
	}
}
