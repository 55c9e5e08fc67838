package sqlstore

import (
	"fmt"
	"strings"
)

// keysPage is how many keys Keys reads per query; between pages it holds
// no connection.
const keysPage = 500

// likeEscape is the LIKE escape character; '!' needs no escaping in string
// literals of any dialect (a backslash does in MySQL).
const likeEscape = '!'

// statements holds the SQL of every operation, built once per Store.
type statements struct {
	get, set, del, touch, exists, keys, purge, expiry lazyStmt
	// The conditional writes (conditional.go).
	swap, create, deleteIf lazyStmt
	// MySQL only: does the live row hold this data and expiry? And replace
	// an expired row, for create.
	holds, replaceExpired lazyStmt
}

func buildStatements(d Dialect, t Table) *statements {
	tbl := d.quote(t.Name)
	k, v, e := d.quote(t.KeyColumn), d.quote(t.DataColumn), d.quote(t.ExpiryColumn)
	live := func(p string) string { return fmt.Sprintf("(%s IS NULL OR %s > %s)", e, e, p) }
	expired := func(p string) string { return fmt.Sprintf("%s IS NOT NULL AND %s <= %s", e, e, p) }
	p := d.placeholders(5)
	s := &statements{}
	s.get = newLazyStmt(fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s AND %s", v, tbl, k, p[0], live(p[1])))
	s.expiry = newLazyStmt(fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s AND %s", d.timeText(e), tbl, k, p[0], live(p[1])))
	s.exists = newLazyStmt(fmt.Sprintf("SELECT 1 FROM %s WHERE %s = %s AND %s", tbl, k, p[0], live(p[1])))
	s.set = newLazyStmt(upsert(d, tbl, k, v, e, p))
	s.del = newLazyStmt(fmt.Sprintf("DELETE FROM %s WHERE %s = %s", tbl, k, p[0]))
	s.touch = newLazyStmt(fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = %s AND %s", tbl, e, p[0], k, p[1], live(p[2])))
	s.keys = newLazyStmt(fmt.Sprintf("SELECT %s FROM %s WHERE %s LIKE %s ESCAPE '%c' AND %s >= %s AND %s ORDER BY %s LIMIT %s",
		k, tbl, k, p[0], likeEscape, k, p[1], live(p[2]), k, p[3]))
	s.purge = newLazyStmt(fmt.Sprintf("DELETE FROM %s WHERE %s <= %s", tbl, e, p[0]))

	// Arguments: data, expiry, key, version (Store.versionArg), now.
	s.swap = newLazyStmt(fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s WHERE %s = %s AND %s AND %s",
		tbl, v, p[0], e, p[1], k, p[2], d.holdsVersion(v, t.TextData, p[3]), live(p[4])))
	// Arguments: key, version, now.
	s.deleteIf = newLazyStmt(fmt.Sprintf("DELETE FROM %s WHERE %s = %s AND %s AND %s",
		tbl, k, p[0], d.holdsVersion(v, t.TextData, p[1]), live(p[2])))
	insert := fmt.Sprintf("INSERT INTO %s (%s, %s, %s) VALUES (%s, %s, %s)", tbl, k, v, e, p[0], p[1], p[2])
	if d == MySQL {
		// Arguments: key, data, expiry.
		s.create = newLazyStmt(insert)
		// Arguments: data, expiry, key, now.
		s.replaceExpired = newLazyStmt(fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s WHERE %s = %s AND %s",
			tbl, v, p[0], e, p[1], k, p[2], expired(p[3])))
		// Arguments: version (Store.versionArg), expiry, key, now.
		s.holds = newLazyStmt(fmt.Sprintf("SELECT %s AND %s <=> %s FROM %s WHERE %s = %s AND %s",
			d.holdsVersion(v, t.TextData, p[0]), e, p[1], tbl, k, p[2], live(p[3])))
	} else {
		// Arguments: key, data, expiry, now. The existing row is named by
		// its table, the proposed one by EXCLUDED.
		s.create = newLazyStmt(fmt.Sprintf("%s ON CONFLICT (%s) DO UPDATE SET %s = EXCLUDED.%s, %s = EXCLUDED.%s WHERE %s.%s IS NOT NULL AND %s.%s <= %s",
			insert, k, v, v, e, e, tbl, e, tbl, e, p[3]))
	}
	for _, l := range s.all() {
		if l.turn == nil { // a statement this dialect does not use
			*l = newLazyStmt("")
		}
	}
	return s
}

// holdsVersion is the condition that data column col (text when text is
// set) holds the version bound as parameter p. PostgreSQL and MySQL
// compare SHA-256 digests, the stored one computed by the server, so that
// a conditional write sends 32 bytes rather than the value it replaces
// (Store.versionArg); the comparison still covers every byte of the column,
// whoever wrote it. The primary key condition beside it picks the one row
// to hash. SQLite has no built-in SHA-256, and nothing crosses a network to
// reach its file: it compares the value itself, under its default BINARY
// collation.
func (d Dialect) holdsVersion(col string, text bool, p string) string {
	switch d {
	case Postgres:
		// sha256 (PostgreSQL 11+) takes bytea; a text column's bytes are
		// its UTF-8 form, which is what the driver reads as the version.
		if text {
			col = "convert_to(" + col + ", 'UTF8')"
		}
		return fmt.Sprintf("sha256(%s) = %s", col, p)
	case MySQL:
		// SHA2 hashes the column's bytes (utf8mb4 for a text column, as
		// read) and returns hex; UNHEX makes it a binary string, so the
		// comparison is bytewise whatever the collation.
		return fmt.Sprintf("UNHEX(SHA2(%s, 256)) = %s", col, p)
	}
	return fmt.Sprintf("%s = %s", col, p)
}

// timeText is how a query reads the expiry column col back. MySQL and
// SQLite hold the UTC text that timeArg binds, and read it as text, which
// neither the driver's parsing of times (MySQL's parseTime and loc, the
// SQLite driver's for DATETIME columns) nor the server's time zone
// changes; PostgreSQL drivers read a timestamp as a time.Time.
func (d Dialect) timeText(col string) string {
	switch d {
	case MySQL:
		return "CAST(" + col + " AS CHAR)"
	case SQLite:
		return "CAST(" + col + " AS TEXT)"
	}
	return col
}

// upsert returns the dialect's insert-or-replace of one row.
func upsert(d Dialect, tbl, k, v, e string, p []string) string {
	insert := fmt.Sprintf("INSERT INTO %s (%s, %s, %s) VALUES (%s, %s, %s)", tbl, k, v, e, p[0], p[1], p[2])
	switch d {
	case MySQL:
		return fmt.Sprintf("%s ON DUPLICATE KEY UPDATE %s = VALUES(%s), %s = VALUES(%s)", insert, v, v, e, e)
	case Postgres:
		return fmt.Sprintf("%s ON CONFLICT (%s) DO UPDATE SET %s = EXCLUDED.%s, %s = EXCLUDED.%s", insert, k, v, v, e, e)
	default:
		return fmt.Sprintf("%s ON CONFLICT(%s) DO UPDATE SET %s = excluded.%s, %s = excluded.%s", insert, k, v, v, e, e)
	}
}

func (s *statements) all() []*lazyStmt {
	return []*lazyStmt{&s.get, &s.set, &s.del, &s.touch, &s.exists, &s.keys, &s.purge, &s.expiry,
		&s.swap, &s.create, &s.deleteIf, &s.holds, &s.replaceExpired}
}

// likePrefix returns the LIKE pattern matching every string that starts with
// prefix.
func likePrefix(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 1)
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; c {
		case '%', '_', likeEscape:
			b.WriteByte(likeEscape)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('%')
	return b.String()
}
