package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

const (
	postgresEnv     = "CLOAKROOM_POSTGRES_DSN"
	postgresDefault = "postgres://postgres@127.0.0.1:5432/cloakroom_test?sslmode=disable"
	mysqlEnv        = "CLOAKROOM_MYSQL_DSN"
	mysqlDefault    = "root@tcp(127.0.0.1:3306)/cloakroom_test?parseTime=true&loc=UTC"
)

// dialects lists the dialects every test runs against.
var dialects = []Dialect{Postgres, MySQL, SQLite}

// testDB returns a database of dialect d for the test, creating the test
// database on the server when absent; it skips (or fails under
// CLOAKROOM_REQUIRE_SERVICES=1) when the server is unreachable.
func testDB(t testing.TB, d Dialect) *sql.DB {
	t.Helper()
	var dsn, what string
	var err error
	switch d {
	case Postgres:
		dsn, what = backendtest.Env(postgresEnv, postgresDefault), "PostgreSQL (set "+postgresEnv+")"
		err = ensurePostgresDB(dsn)
	case MySQL:
		dsn, what = backendtest.Env(mysqlEnv, mysqlDefault), "MariaDB/MySQL (set "+mysqlEnv+")"
		err = ensureMySQLDB(dsn)
	default:
		dsn = sqliteDefaults(filepath.Join(t.TempDir(), "sessions.db"))
	}
	if err != nil {
		backendtest.Unavailable(t, what, err)
	}
	db, err := sql.Open(d.DriverName(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := ping(db); err != nil {
		backendtest.Unavailable(t, what, err)
	}
	return db
}

func ping(db *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// ensurePostgresDB creates the DSN's database through the server's
// "postgres" database when it does not exist.
func ensurePostgresDB(dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return err
	}
	name := u.Path[1:]
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := ping(admin); err != nil {
		return err
	}
	var n int
	if err := admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil || n > 0 {
		return err
	}
	if _, err := admin.Exec("CREATE DATABASE " + Postgres.quote(name)); err != nil {
		// Another test process may have created it meanwhile.
		if err2 := admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err2 != nil || n == 0 {
			return err
		}
	}
	return nil
}

// ensureMySQLDB creates the DSN's database when it does not exist.
func ensureMySQLDB(dsn string) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	name := cfg.DBName
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := ping(admin); err != nil {
		return err
	}
	_, err = admin.Exec("CREATE DATABASE IF NOT EXISTS " + MySQL.quote(name) + " CHARACTER SET utf8mb4")
	return err
}

// testStore returns a Store on a fresh database connection with its table
// created.
func testStore(t testing.TB, d Dialect, opts Options) *Store {
	t.Helper()
	s, err := New(testDB(t, d), d, opts)
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
// ends, for tests that count rows.
func scratchTable(t testing.TB, d Dialect, base Table) Table {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	base.Name = "cloakroom_t_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		db := testDB(t, d)
		_, _ = db.Exec("DROP TABLE IF EXISTS " + d.quote(base.Name))
	})
	return base
}
