package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // registers "sqlite"; sqltest registers "pgx" and "mysql"

	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// dialects lists the dialects every test runs against.
var dialects = []Dialect{Postgres, MySQL, SQLite}

// sqlitePragmas are the settings the sqlite sub-package's Open adds (this
// package's tests cannot import it), so that concurrent tests wait for
// each other's locks.
const sqlitePragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"

// testDSN returns the DSN of a test database of dialect d: the shared
// server's test database, or a new SQLite file.
func testDSN(t testing.TB, d Dialect) string {
	t.Helper()
	switch d {
	case Postgres:
		return sqltest.PostgresDSN(t)
	case MySQL:
		return sqltest.MySQLDSN(t)
	}
	return filepath.Join(t.TempDir(), "sessions.db") + sqlitePragmas
}

// testDB returns a database of dialect d for the test; it skips (or fails
// under CLOAKROOM_REQUIRE_SERVICES=1) when the server is unreachable.
func testDB(t testing.TB, d Dialect) *sql.DB {
	t.Helper()
	return openDB(t, d, testDSN(t, d))
}

// openDB opens dsn with d's driver, closed when the test ends.
func openDB(t testing.TB, d Dialect, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(d.DriverName(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		backendtest.Unavailable(t, d.String(), err)
	}
	return db
}

// testStore returns a Store on a fresh database connection with its table
// created.
func testStore(t testing.TB, d Dialect, opts Options) *Store {
	t.Helper()
	return storeOn(t, testDB(t, d), d, opts)
}

// storeOn returns a Store on db with its table created, closed when the
// test ends.
func storeOn(t testing.TB, db *sql.DB, d Dialect, opts Options) *Store {
	t.Helper()
	s, err := New(db, d, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// scratchTable returns a Table with a unique name, dropped when the test
// ends, for tests that count rows or change the clock.
func scratchTable(t testing.TB, d Dialect, base Table) Table {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	base.Name = "cloakroom_t_" + hex.EncodeToString(b)
	if d != SQLite { // a SQLite test's file goes with its directory
		t.Cleanup(func() {
			db := testDB(t, d)
			_, _ = db.Exec("DROP TABLE IF EXISTS " + d.quote(base.Name))
		})
	}
	return base
}

// counting makes s count the statements it runs; the returned function
// reads and resets the count.
func counting(s *Store) func() int {
	var n atomic.Int32
	s.observe = func(string) { n.Add(1) }
	return func() int { return int(n.Swap(0)) }
}
