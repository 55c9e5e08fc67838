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
	get, set, del, touch, exists, keys, purge lazyStmt
}

func buildStatements(d Dialect, t Table) *statements {
	tbl := d.quote(t.Name)
	k, v, e := d.quote(t.KeyColumn), d.quote(t.DataColumn), d.quote(t.ExpiryColumn)
	live := func(p string) string { return fmt.Sprintf("(%s IS NULL OR %s > %s)", e, e, p) }
	p := d.placeholders(4)
	s := &statements{}
	s.get.query = fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s AND %s", v, tbl, k, p[0], live(p[1]))
	s.exists.query = fmt.Sprintf("SELECT 1 FROM %s WHERE %s = %s AND %s", tbl, k, p[0], live(p[1]))
	s.set.query = upsert(d, tbl, k, v, e, p)
	s.del.query = fmt.Sprintf("DELETE FROM %s WHERE %s = %s", tbl, k, p[0])
	s.touch.query = fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = %s AND %s", tbl, e, p[0], k, p[1], live(p[2]))
	s.keys.query = fmt.Sprintf("SELECT %s FROM %s WHERE %s LIKE %s ESCAPE '%c' AND %s >= %s AND %s ORDER BY %s LIMIT %s",
		k, tbl, k, p[0], likeEscape, k, p[1], live(p[2]), k, p[3])
	s.purge.query = fmt.Sprintf("DELETE FROM %s WHERE %s <= %s", tbl, e, p[0])
	return s
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
	return []*lazyStmt{&s.get, &s.set, &s.del, &s.touch, &s.exists, &s.keys, &s.purge}
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
