// Package sqltest finds the PostgreSQL and MariaDB/MySQL servers that the
// tests of package sqlstore and its sub-packages run against, and creates
// their test databases. Only tests import it.
package sqltest

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// The environment variables that point the tests at a server, and their
// defaults.
const (
	PostgresEnv     = "CLOAKROOM_POSTGRES_DSN"
	PostgresDefault = "postgres://postgres@127.0.0.1:5432/cloakroom_test?sslmode=disable"
	MySQLEnv        = "CLOAKROOM_MYSQL_DSN"
	MySQLDefault    = "root@tcp(127.0.0.1:3306)/cloakroom_test?parseTime=true&loc=UTC"
)

// PostgresDSN returns the test PostgreSQL DSN (a URL), creating its
// database when absent. It skips the test, or fails it under
// CLOAKROOM_REQUIRE_SERVICES=1, when the server is unreachable.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := backendtest.Env(PostgresEnv, PostgresDefault)
	if err := ensurePostgresDB(dsn); err != nil {
		backendtest.Unavailable(t, "PostgreSQL (set "+PostgresEnv+")", err)
	}
	return dsn
}

// MySQLDSN returns the test MariaDB/MySQL DSN (in go-sql-driver's form),
// creating its database when absent. It skips the test, or fails it under
// CLOAKROOM_REQUIRE_SERVICES=1, when the server is unreachable.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	dsn := backendtest.Env(MySQLEnv, MySQLDefault)
	if err := ensureMySQLDB(dsn); err != nil {
		backendtest.Unavailable(t, "MariaDB/MySQL (set "+MySQLEnv+")", err)
	}
	return dsn
}

// PostgresAt returns the test PostgreSQL DSN pointed at addr, with a
// password and a 2-second connect timeout, for tests of unreachable or
// flaky servers.
func PostgresAt(t testing.TB, addr, password string) string {
	t.Helper()
	u, err := url.Parse(backendtest.Env(PostgresEnv, PostgresDefault))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	if password != "" {
		u.User = url.UserPassword(u.User.Username(), password)
	}
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return u.String()
}

// MySQLAt is PostgresAt for MariaDB/MySQL.
func MySQLAt(t testing.TB, addr, password string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(backendtest.Env(MySQLEnv, MySQLDefault))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Net, cfg.Addr, cfg.Timeout = "tcp", addr, 2*time.Second
	if password != "" {
		cfg.Passwd = password
	}
	return cfg.FormatDSN()
}

// PostgresVia returns the test PostgreSQL DSN pointed at addr (a Proxy)
// with nothing else changed: no timeout of its own, as a user's DSN.
func PostgresVia(t testing.TB, addr string) string {
	t.Helper()
	u, err := url.Parse(backendtest.Env(PostgresEnv, PostgresDefault))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// MySQLVia is PostgresVia for MariaDB/MySQL.
func MySQLVia(t testing.TB, addr string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(backendtest.Env(MySQLEnv, MySQLDefault))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Net, cfg.Addr = "tcp", addr
	return cfg.FormatDSN()
}

// PostgresAddr returns the host:port of the test PostgreSQL server.
func PostgresAddr(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(backendtest.Env(PostgresEnv, PostgresDefault))
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// MySQLAddr returns the host:port of the test MariaDB/MySQL server.
func MySQLAddr(t testing.TB) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(backendtest.Env(MySQLEnv, MySQLDefault))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Addr
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
	const count = "SELECT count(*) FROM pg_database WHERE datname = $1"
	var n int
	if err := admin.QueryRow(count, name).Scan(&n); err != nil || n > 0 {
		return err
	}
	if _, err := admin.Exec(`CREATE DATABASE "` + name + `"`); err != nil {
		// Another test process may have created it meanwhile.
		if err2 := admin.QueryRow(count, name).Scan(&n); err2 != nil || n == 0 {
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
	_, err = admin.Exec("CREATE DATABASE IF NOT EXISTS `" + name + "` CHARACTER SET utf8mb4")
	return err
}
