package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// asURL rewrites the test DSN as a mysql:// URL.
func asURL(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u := "mysql://" + cfg.User
	if cfg.Passwd != "" {
		u += ":" + cfg.Passwd
	}
	return u + "@" + cfg.Addr + "/" + cfg.DBName + "?parseTime=true"
}

func TestOpen(t *testing.T) {
	dsn := sqltest.MySQLDSN(t)
	for name, dsn := range map[string]string{"dsn": dsn, "url": asURL(t, dsn)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, dsn, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Dialect() != sqlstore.MySQL {
				t.Errorf("Dialect = %v", s.Dialect())
			}
			if err := s.CreateTable(ctx); err != nil {
				t.Fatal(err)
			}
			key := "cloakroomtest:open:" + t.Name()
			if err := s.SetIf(ctx, key, nil, []byte("v"), 0); err != nil {
				t.Fatal(err)
			}
			if err := s.SetIf(ctx, key, core.Version("v"), []byte("v"), 0); err != nil {
				t.Fatalf("SetIf of the value held: %v", err)
			}
			if err := s.DeleteIf(ctx, key, core.Version("v")); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.DB().Ping(); err == nil {
				t.Error("the pool is still open after Close")
			}
		})
	}
}

// TestOpenFoundRows: the pool Open makes reports matched rows, so that a
// conditional write of the value already held is one statement.
func TestOpenFoundRows(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, sqltest.MySQLDSN(t), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := s.DB().Conn(ctx) // a temporary table is one connection's
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"CREATE TEMPORARY TABLE found_rows_t (x int)", "INSERT INTO found_rows_t VALUES (1)"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	res, err := conn.ExecContext(ctx, "UPDATE found_rows_t SET x = 1")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("an UPDATE that changes nothing reports %d rows (%v), want 1", n, err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	const password = "s3cret-pw"
	dsn := sqltest.MySQLAt(t, backendtest.ClosedAddr(t), password)
	for name, dsn := range map[string]string{"dsn": dsn, "url": asURL(t, dsn)} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			s, err := Open(ctx, dsn, sqlstore.Options{})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open of a closed port succeeded")
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Open took %v, past its 1s deadline", took)
			}
			if strings.Contains(err.Error(), password) || errors.Is(err, core.ErrNotFound) {
				t.Errorf("Open: %v", err)
			}
			t.Logf("Open: %v", err)
		})
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, addr, user, pass, db string }{
		{"mysql://root:pw@127.0.0.1:3307/app?parseTime=true", "127.0.0.1:3307", "root", "pw", "app"},
		{"mysql://root@localhost/app", "localhost:3306", "root", "", "app"},
		{"MariaDB://u:p%40ss%2Fw@[::1]/my%20db", "[::1]:3306", "u", "p@ss/w", "my db"},
	} {
		cfg, err := parse(c.in)
		if err != nil {
			t.Errorf("parse(%q): %v", c.in, err)
			continue
		}
		if cfg.Net != "tcp" || cfg.Addr != c.addr || cfg.User != c.user || cfg.Passwd != c.pass || cfg.DBName != c.db {
			t.Errorf("parse(%q) = %s %s %s %s %s", c.in, cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName)
		}
	}
	cfg, err := parse("mysql://root@h/app?parseTime=true&timeout=3s")
	if err != nil || !cfg.ParseTime || cfg.Timeout != 3*time.Second {
		t.Errorf("URL parameters: %+v, %v", cfg, err)
	}
	cfg, err = parse("root@tcp(127.0.0.1:3306)/app?loc=UTC")
	if err != nil || cfg.Addr != "127.0.0.1:3306" || cfg.DBName != "app" {
		t.Errorf("driver DSN: %+v, %v", cfg, err)
	}
}

// TestParseErrorsHidePassword: a malformed URL's error must not quote it.
func TestParseErrorsHidePassword(t *testing.T) {
	const password = "s3cret-pw"
	for _, in := range []string{
		"mysql://root:" + password + "@h:3306/app?%zz",
		"mysql://root:" + password + "@h:port/app",
		"mysql://root:" + password + "@h/app?parseTime=maybe",
	} {
		s, err := Open(context.Background(), in, sqlstore.Options{})
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", in)
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestOpenWrongPassword: the server refuses the login; the error says so
// without the password.
func TestOpenWrongPassword(t *testing.T) {
	const password = "s3cret-pw"
	cfg, err := gomysql.ParseDSN(sqltest.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Passwd = password
	s, err := Open(context.Background(), cfg.FormatDSN(), sqlstore.Options{})
	if err == nil {
		_ = s.Close()
		t.Skip("the server accepts any password for the test user")
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error shows the password: %v", err)
	}
	t.Logf("Open: %v", err)
}

// TestStalledServer: a Store made by Open with default options fails
// every call within 2 seconds while a proxy in front of the server stops
// forwarding, and works again once it forwards (sqltest.CheckStalled).
func TestStalledServer(t *testing.T) {
	_ = sqltest.MySQLDSN(t) // skips when the server is unreachable
	sqltest.CheckStalled(t, sqltest.MySQLAddr(t), sqltest.MySQLVia, openDefault)
}

// TestOpenStalled: Open with a context without deadline gives up on a
// server that never answers its handshake after the default connect
// timeout. The pool's own connection attempts, which database/sql makes
// without any deadline, are bounded the same way.
func TestOpenStalled(t *testing.T) {
	_ = sqltest.MySQLDSN(t) // skips when the server is unreachable
	sqltest.CheckOpenStalled(t, sqltest.MySQLAddr(t), sqltest.MySQLVia, openDefault, sqlstore.DefaultConnectTimeout)
}

// openDefault is Open with default options.
func openDefault(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	return Open(ctx, dsn, sqlstore.Options{})
}
