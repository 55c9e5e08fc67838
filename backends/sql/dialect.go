package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect tells a Store how to speak to one kind of database: identifier
// quoting, placeholders, upserts, column types and how times are passed.
// Use the constants Postgres, MySQL and SQLite; the zero Dialect is invalid.
type Dialect int

// The supported dialects. Pass the one that matches the *sql.DB's driver to
// New or OpenDB; the sub-packages postgres, mysql and sqlite pass their own.
const (
	// Postgres is PostgreSQL, through github.com/jackc/pgx/v5/stdlib
	// (driver name "pgx") or any other PostgreSQL driver.
	Postgres Dialect = iota + 1
	// MySQL is MySQL or MariaDB, through github.com/go-sql-driver/mysql
	// (driver name "mysql").
	MySQL
	// SQLite is SQLite, through modernc.org/sqlite (driver name "sqlite")
	// or another SQLite driver.
	SQLite
)

// String returns the dialect's name as ParseDialect accepts it.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	case SQLite:
		return "sqlite"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// DriverName returns the name under which the driver that d's sub-package
// uses registers with database/sql once imported: "pgx", "mysql" or
// "sqlite", for sql.Open.
func (d Dialect) DriverName() string {
	switch d {
	case Postgres:
		return "pgx"
	case MySQL:
		return "mysql"
	case SQLite:
		return "sqlite"
	}
	return ""
}

func (d Dialect) valid() bool { return d >= Postgres && d <= SQLite }

// ParseDialect returns the dialect a name designates, so that a program can
// take it from a flag or a setting: "postgres" (also "postgresql", "pg",
// "pgx"), "mysql" (also "mariadb") or "sqlite" (also "sqlite3").
func ParseDialect(name string) (Dialect, error) {
	switch strings.ToLower(name) {
	case "postgres", "postgresql", "pg", "pgx":
		return Postgres, nil
	case "mysql", "mariadb":
		return MySQL, nil
	case "sqlite", "sqlite3":
		return SQLite, nil
	}
	return 0, fmt.Errorf("sqlstore: unknown dialect %q (want postgres, mysql or sqlite)", name)
}

// quote quotes an identifier that validIdent accepted.
func (d Dialect) quote(ident string) string {
	if d == MySQL {
		return "`" + ident + "`"
	}
	return `"` + ident + `"`
}

// placeholders returns the n bind markers of a statement, in order.
func (d Dialect) placeholders(n int) []string {
	p := make([]string, n)
	for i := range p {
		if d == Postgres {
			p[i] = "$" + strconv.Itoa(i+1)
		} else {
			p[i] = "?"
		}
	}
	return p
}

// sqliteTime is how SQLite rows hold times: text in UTC that sorts in time
// order and is the format Django writes ('YYYY-MM-DD HH:MM:SS[.ffffff]').
const sqliteTime = "2006-01-02 15:04:05.000000"

// timeArg converts t into the value bound for an expiry column. PostgreSQL
// drivers send time.Time as an instant. MySQL and SQLite get UTC text, so
// neither the driver's loc setting nor the server's time zone matters.
func (d Dialect) timeArg(t time.Time) any {
	t = t.UTC()
	if d == Postgres {
		return t
	}
	s := t.Format(sqliteTime)
	if t.Nanosecond()/1000 == 0 {
		s = s[:len("2006-01-02 15:04:05")] // as Python's str(datetime)
	}
	return s
}
