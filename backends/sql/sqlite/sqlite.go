// Package sqlite opens a cloakroom SQL Store (package sqlstore) on a SQLite
// database through the pure-Go driver modernc.org/sqlite (no cgo).
// Importing it links that driver and no other SQL driver.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
)

// BusyTimeout is the busy timeout, in milliseconds, that Open gives a
// database whose DSN sets no pragma: how long a write waits for another
// connection's lock before failing with "database is locked". The writes
// of one Store take turns without it (and their wait ends with the
// context), so it only covers other processes and Stores, whose session
// writes hold the lock for about a millisecond each. It is short because
// SQLite's wait for a lock does not end with the caller's context: with a
// database locked for long (by another process's transaction, say), a
// call must still fail within 2 seconds, its wait for its turn (bounded by
// sqlstore.Options.Timeout, 1.5 s) and for the lock included.
const BusyTimeout = 400

// Open opens (creating it when absent) the SQLite database dsn and returns
// a Store that owns it: Close closes it. dsn is a file path, a file: URI,
// or ":memory:"; a leading "sqlite://", "sqlite3://" or "sqlite:" is
// removed, so that one setting can carry a URL-like name.
//
// Unless dsn has _pragma parameters of its own, Open adds a busy timeout
// (BusyTimeout) and, for a file, WAL journaling, so that concurrent
// requests, from this process or others on the machine, wait for each other
// instead of failing, and readers never wait for a writer. A DSN with
// pragmas of its own should set a busy timeout of 400 ms or less to keep
// the 2-second bound. A file's pool is limited by sqlstore.LimitPool. An
// in-memory database belongs to one connection, so Open then keeps the
// pool to that one connection; it lives as long as the Store and suits
// tests. Open checks with one ping, bounded by ctx, that the database
// opens.
//
// Several processes may share one file, and may start together on a file
// that does not exist yet, each calling Open and then CreateTable. The
// first connection turns a new file into WAL mode, and SQLite fails that
// at once, busy timeout or not, while another process does the same:
// Open then pings again, for up to 5 seconds within ctx, and finds the
// file in WAL mode. CreateTable waits for the write lock likewise.
func Open(ctx context.Context, dsn string, opts sqlstore.Options) (*sqlstore.Store, error) {
	dsn = withDefaults(trimScheme(dsn))
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	if isMemory(dsn) {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	} else {
		sqlstore.LimitPool(db)
	}
	return sqlstore.OpenDB(ctx, db, sqlstore.SQLite, opts)
}

// trimScheme removes a URL-like scheme from dsn; the driver takes paths
// and file: URIs.
func trimScheme(dsn string) string {
	lower := strings.ToLower(dsn)
	for _, scheme := range []string{"sqlite://", "sqlite3://", "sqlite:"} {
		if strings.HasPrefix(lower, scheme) {
			return dsn[len(scheme):]
		}
	}
	return dsn
}

// withDefaults adds a busy timeout and, for a file, WAL journaling to a DSN
// that sets no pragma of its own.
func withDefaults(dsn string) string {
	if strings.Contains(dsn, "_pragma=") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += fmt.Sprintf("%s_pragma=busy_timeout(%d)", sep, BusyTimeout)
	if !isMemory(dsn) {
		dsn += "&_pragma=journal_mode(WAL)"
	}
	return dsn
}

// isMemory reports whether dsn names an in-memory database.
func isMemory(dsn string) bool {
	return strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory")
}
