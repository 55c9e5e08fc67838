package sqlstore

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Open opens a database with the driver this module brings for dialect d
// and returns a Store on it that Close closes. dsn is in the driver's own
// form: a postgres:// URL or key=value string for PostgreSQL, a
// go-sql-driver DSN (user:pass@tcp(host:3306)/db) for MySQL, a file name or
// file: URI for SQLite. ParseDSN turns a URL into a dialect and such a dsn.
//
// Open does not contact the server. For SQLite it adds, unless the dsn has
// its own _pragma settings, a busy timeout and WAL journaling, so that
// concurrent requests wait for each other instead of failing with
// "database is locked".
func Open(d Dialect, dsn string, opts Options) (*Store, error) {
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: invalid dialect %v", d)
	}
	if d == SQLite {
		dsn = sqliteDefaults(dsn)
	}
	db, err := sql.Open(d.DriverName(), dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", d, err)
	}
	if d == SQLite && isSQLiteMemory(dsn) {
		db.SetMaxOpenConns(1) // every connection would have its own database
	}
	s, err := New(db, d, opts)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.ownDB = true
	return s, nil
}

// ParseDSN picks the dialect from a URL or DSN and returns the DSN in the
// form that dialect's driver (as Open uses it) expects, so that a program can
// take one -dsn setting:
//
//   - postgres://… or postgresql://… → Postgres, unchanged;
//   - mysql://user:pass@host:port/db?params → MySQL, rewritten as
//     user:pass@tcp(host:port)/db?params;
//   - a go-sql-driver DSN (…@tcp(…)/… or …@unix(…)/…) → MySQL, unchanged;
//   - sqlite://path, sqlite:path, file:…, :memory: or any other plain path →
//     SQLite (the sqlite scheme is removed).
func ParseDSN(s string) (Dialect, string, error) {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return 0, "", fmt.Errorf("sqlstore: empty DSN")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return Postgres, s, nil
	case strings.HasPrefix(lower, "mysql://"), strings.HasPrefix(lower, "mariadb://"):
		dsn, err := mysqlURL(s)
		return MySQL, dsn, err
	case strings.Contains(s, "@tcp(") || strings.Contains(s, "@unix("):
		if _, err := mysql.ParseDSN(s); err != nil {
			return 0, "", fmt.Errorf("sqlstore: MySQL DSN: %w", err)
		}
		return MySQL, s, nil
	case strings.HasPrefix(lower, "sqlite://"):
		return SQLite, s[len("sqlite://"):], nil
	case strings.HasPrefix(lower, "sqlite3://"):
		return SQLite, s[len("sqlite3://"):], nil
	case strings.HasPrefix(lower, "sqlite:"):
		return SQLite, s[len("sqlite:"):], nil
	case strings.Contains(s, "://") && !strings.HasPrefix(lower, "file:"):
		return 0, "", fmt.Errorf("sqlstore: unsupported DSN scheme in %q (want postgres://, mysql://, sqlite:// or a file path)", redact(s))
	}
	return SQLite, s, nil
}

// mysqlURL converts mysql://user:pass@host:port/db?params to the
// go-sql-driver form.
func mysqlURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("sqlstore: MySQL URL: %w", err)
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = u.Hostname() + ":3306"
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	dsn := cfg.FormatDSN()
	if u.RawQuery != "" {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + u.RawQuery
	}
	if _, err := mysql.ParseDSN(dsn); err != nil {
		return "", fmt.Errorf("sqlstore: MySQL URL: %w", err)
	}
	return dsn, nil
}

// redact hides a URL's password in error messages.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable DSN)"
}

// sqliteDefaults adds a busy timeout and WAL journaling to a SQLite DSN that
// sets no pragma of its own.
func sqliteDefaults(dsn string) string {
	if strings.Contains(dsn, "_pragma=") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "_pragma=busy_timeout(10000)"
	if !isSQLiteMemory(dsn) {
		dsn += "&_pragma=journal_mode(WAL)"
	}
	return dsn
}

func isSQLiteMemory(dsn string) bool {
	return strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory")
}
