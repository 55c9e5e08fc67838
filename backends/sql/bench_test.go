package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// The raw benchmarks run the same single statement on the same table
// through database/sql with a prepared statement, so the ratio to
// BenchmarkGet/BenchmarkSet is the Store's own overhead.
var rawSQL = map[Dialect]struct{ get, set string }{
	Postgres: {
		`SELECT "data" FROM "cloakroom_sessions" WHERE "id" = $1 AND ("expires_at" IS NULL OR "expires_at" > $2)`,
		`INSERT INTO "cloakroom_sessions" ("id", "data", "expires_at") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "data" = EXCLUDED."data", "expires_at" = EXCLUDED."expires_at"`,
	},
	MySQL: {
		"SELECT `data` FROM `cloakroom_sessions` WHERE `id` = ? AND (`expires_at` IS NULL OR `expires_at` > ?)",
		"INSERT INTO `cloakroom_sessions` (`id`, `data`, `expires_at`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `data` = VALUES(`data`), `expires_at` = VALUES(`expires_at`)",
	},
	SQLite: {
		`SELECT "data" FROM "cloakroom_sessions" WHERE "id" = ? AND ("expires_at" IS NULL OR "expires_at" > ?)`,
		`INSERT INTO "cloakroom_sessions" ("id", "data", "expires_at") VALUES (?, ?, ?) ON CONFLICT("id") DO UPDATE SET "data" = excluded."data", "expires_at" = excluded."expires_at"`,
	},
}

var benchValue = bytes.Repeat([]byte("0123456789"), 20) // 200 bytes

var benchKey = "cloakroombench:0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

func benchStore(b *testing.B, d Dialect) *Store {
	b.Helper()
	s := testStore(b, d, Options{})
	if err := s.Set(context.Background(), benchKey, benchValue, time.Hour); err != nil {
		b.Fatal(err)
	}
	return s
}

func rawStmt(b *testing.B, db *sql.DB, query string) *sql.Stmt {
	b.Helper()
	st, err := db.Prepare(query)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

func BenchmarkGet(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			s := benchStore(b, d)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Get(ctx, benchKey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRawGet(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			s := benchStore(b, d)
			st := rawStmt(b, s.db, rawSQL[d].get)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				var v []byte
				if err := st.QueryRowContext(ctx, benchKey, d.timeArg(time.Now())).Scan(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSet(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			s := benchStore(b, d)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Set(ctx, benchKey, benchValue, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRawSet(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			s := benchStore(b, d)
			st := rawStmt(b, s.db, rawSQL[d].set)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.ExecContext(ctx, benchKey, benchValue, d.timeArg(time.Now().Add(time.Hour))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRawSQLMatchesStore keeps the raw benchmarks honest: they must run the
// Store's own statements.
func TestRawSQLMatchesStore(t *testing.T) {
	for _, d := range dialects {
		st := buildStatements(d, DefaultTable)
		if st.get.query != rawSQL[d].get || st.set.query != rawSQL[d].set {
			t.Errorf("%v: raw benchmark SQL differs from the Store's:\n%s\n%s", d, st.get.query, st.set.query)
		}
	}
}

// BenchmarkSetIf swaps the value between two of the same size, each call
// conditioned on the other: the cost of a conditional write over a blind
// one (BenchmarkSet).
func BenchmarkSetIf(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			s := benchStore(b, d)
			ctx := context.Background()
			values := [2][]byte{benchValue, bytes.ToUpper(benchValue)}
			values[1][0] = 'X'
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.SetIf(ctx, benchKey, values[i%2], values[(i+1)%2], time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGetVersion(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.String(), func(b *testing.B) {
			s := benchStore(b, d)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.GetVersion(ctx, benchKey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSetIfSent measures, through a counting proxy, the bytes a
// conditional write sends to the server (sent-B/op) with values of 4 KiB
// and 64 KiB, swapped as in BenchmarkSetIf.
func BenchmarkSetIfSent(b *testing.B) {
	for _, d := range []Dialect{Postgres, MySQL} { // SQLite sends nothing
		for _, size := range []int{4 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%v/%dKiB", d, size>>10), func(b *testing.B) {
				s, p := countedStore(b, target{name: d.String(), dialect: d}, Table{})
				ctx := context.Background()
				values := [2][]byte{bytes.Repeat([]byte("0123456789abcdef"), size/16), nil}
				values[1] = bytes.ToUpper(values[0])
				if err := s.Set(ctx, benchKey, values[0], time.Hour); err != nil {
					b.Fatal(err)
				}
				if err := s.SetIf(ctx, benchKey, values[0], values[0], time.Hour); err != nil {
					b.Fatal(err) // prepares the statement before the count
				}
				p.Sent()
				i := 0
				for b.Loop() {
					if err := s.SetIf(ctx, benchKey, values[i%2], values[(i+1)%2], time.Hour); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(p.Sent())/float64(i), "sent-B/op")
			})
		}
	}
}
