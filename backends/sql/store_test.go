package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// wideDjango is Django's layout with a key column wide enough for test keys.
func wideDjango() Table {
	t := DjangoTable
	t.KeyLength = 255
	return t
}

// setAt stores key as if it had been set at time at.
func setAt(t *testing.T, s *Store, at time.Time, key string, ttl time.Duration) {
	t.Helper()
	now := s.now
	s.now = func() time.Time { return at }
	defer func() { s.now = now }()
	if err := s.Set(context.Background(), key, []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + s.dialect.quote(s.table.Name)
	if err := s.db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPurge(t *testing.T) {
	for _, d := range dialects {
		for name, base := range map[string]Table{"default": {}, "django": wideDjango()} {
			t.Run(d.String()+"/"+name, func(t *testing.T) {
				t.Parallel()
				s := testStore(t, d, Options{Table: scratchTable(t, d, base)})
				ctx := context.Background()
				past := time.Now().Add(-time.Hour)
				setAt(t, s, past, "expired1", time.Minute)
				setAt(t, s, past, "expired2", time.Second)
				setAt(t, s, past, "forever", 0)
				if err := s.Set(ctx, "live", []byte("v"), time.Hour); err != nil {
					t.Fatal(err)
				}
				n, err := s.Purge(ctx)
				if err != nil || n != 2 {
					t.Fatalf("Purge = %d, %v; want 2, nil", n, err)
				}
				if got := countRows(t, s); got != 2 {
					t.Fatalf("%d rows left, want 2", got)
				}
				for _, k := range []string{"live", "forever"} {
					if _, err := s.Get(ctx, k); err != nil {
						t.Errorf("Get(%q) after Purge: %v", k, err)
					}
				}
				if n, err := s.Purge(ctx); err != nil || n != 0 {
					t.Fatalf("second Purge = %d, %v; want 0, nil", n, err)
				}
			})
		}
	}
}

func TestCleanupInterval(t *testing.T) {
	db := testDB(t, SQLite)
	for _, c := range []struct {
		opt, want time.Duration
	}{{0, DefaultCleanupInterval}, {-1, 0}, {time.Second, time.Second}} {
		s, err := New(db, SQLite, Options{CleanupInterval: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		if s.cleanupInterval != c.want || (s.cleaner != nil) != (c.want > 0) {
			t.Errorf("CleanupInterval %v: runs every %v (loop %v), want %v", c.opt, s.cleanupInterval, s.cleaner != nil, c.want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// lockedBuffer is a log destination that the test reads while the
// clean-up goroutine writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestCleanupFailureLogged: a failing background clean-up (here, the
// table was never created) is reported to Options.Logger.
func TestCleanupFailureLogged(t *testing.T) {
	var logs lockedBuffer
	s, err := New(testDB(t, SQLite), SQLite, Options{
		CleanupInterval: 10 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "background clean-up failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no failure logged; logs: %q", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "no such table") {
		t.Errorf("the log does not carry the error: %q", logs.String())
	}
}

func TestBackgroundPurge(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			table := scratchTable(t, d, Table{})
			writer := testStore(t, d, Options{Table: table})
			setAt(t, writer, time.Now().Add(-time.Hour), "expired", time.Minute)
			if err := writer.Set(context.Background(), "live", []byte("v"), time.Hour); err != nil {
				t.Fatal(err)
			}
			s, err := New(writer.db, d, Options{Table: table, CleanupInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for countRows(t, s) != 1 {
				if time.Now().After(deadline) {
					t.Fatal("the background purge did not delete the expired row")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// That Close waits for the purge goroutine is background.Loop's
			// to test.
			if err := s.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			// Close left the shared database open.
			if _, err := writer.Get(context.Background(), "live"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// indexQuery counts a table's indexes (primary key included).
var indexQuery = map[Dialect]string{
	Postgres: "SELECT count(*) FROM pg_indexes WHERE tablename = $1",
	MySQL:    "SELECT count(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ?",
	SQLite:   "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
}

func TestCreateTableIdempotent(t *testing.T) {
	for _, d := range dialects {
		for name, base := range map[string]Table{"default": {}, "django": DjangoTable} {
			t.Run(d.String()+"/"+name, func(t *testing.T) {
				t.Parallel()
				s := testStore(t, d, Options{Table: scratchTable(t, d, base)})
				ctx := context.Background()
				if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if err := s.CreateTable(ctx); err != nil {
						t.Fatalf("CreateTable again: %v", err)
					}
				}
				if _, err := s.Get(ctx, "k"); err != nil {
					t.Fatalf("Get after CreateTable again: %v", err)
				}
				var n int
				if err := s.db.QueryRow(indexQuery[d], s.table.Name).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 2 {
					t.Fatalf("%d indexes, want 2 (primary key and expiry)", n)
				}
			})
		}
	}
}

func TestInvalidIdentifier(t *testing.T) {
	db := testDB(t, SQLite)
	for _, tbl := range []Table{
		{Name: "sessions; DROP TABLE users"},
		{Name: "1sessions"},
		{KeyColumn: `id"`},
		{DataColumn: "data`"},
		{ExpiryColumn: "expires at"},
		{Name: strings.Repeat("x", 64)},
		{Name: "sessiöns"},
	} {
		if _, err := New(db, SQLite, Options{Table: tbl}); err == nil {
			t.Errorf("New accepted %+v", tbl)
		}
	}
	if _, err := New(db, Dialect(0), Options{}); err == nil {
		t.Error("New accepted the zero Dialect")
	}
	if _, err := New(nil, SQLite, Options{}); err == nil {
		t.Error("New accepted a nil *sql.DB")
	}
	if _, err := New(db, SQLite, Options{Table: Table{Name: "My_Sessions_2"}}); err != nil {
		t.Errorf("New refused a valid name: %v", err)
	}
}

// TestDjangoTable uses Django's real layout (40-character keys, text data,
// NOT NULL expiry) and rows written as Django writes them.
func TestDjangoTable(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			s := testStore(t, d, Options{Table: scratchTable(t, d, DjangoTable)})
			ctx := context.Background()
			key := "abcdefghijklmnopqrstuvwxyz012345" // Django's 32 [a-z0-9]
			data := []byte("eyJfYXV0aF91c2VyX2lkIjoiMSJ9:1tGZoX:sig")
			if err := s.Set(ctx, key, data, 0); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, key); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Get = %q, %v", got, err)
			}
			if y := expiryYear(t, s, key); y != 9999 {
				t.Fatalf("no-expiry key stored with year %d, want 9999", y)
			}
			if err := s.Touch(ctx, key, time.Hour); err != nil {
				t.Fatal(err)
			}
			if y := expiryYear(t, s, key); y != time.Now().UTC().Add(time.Hour).Year() {
				t.Fatalf("touched key has year %d", y)
			}
			// Rows as Django writes them: UTC, microseconds omitted when zero.
			insert := fmt.Sprintf("INSERT INTO %s (session_key, session_data, expire_date) VALUES (%s)",
				d.quote(s.table.Name), strings.Join(d.placeholders(3), ", "))
			past, future := time.Now().UTC().Add(-time.Minute), time.Now().UTC().Add(time.Hour).Truncate(time.Second)
			for k, at := range map[string]time.Time{"djangolive": future, "djangoexpired": past} {
				if _, err := s.db.Exec(insert, k, "x", djangoTime(d, at)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Get(ctx, "djangolive"); err != nil {
				t.Errorf("row written as Django does: %v", err)
			}
			if _, err := s.Get(ctx, "djangoexpired"); !errors.Is(err, core.ErrNotFound) {
				t.Errorf("expired Django row: err = %v, want ErrNotFound", err)
			}
		})
	}
}

// djangoTime is how Django's backends bind a UTC datetime.
func djangoTime(d Dialect, t time.Time) any {
	if d == Postgres {
		return t
	}
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

func expiryYear(t *testing.T, s *Store, key string) int {
	t.Helper()
	var y int
	col, tbl, k := s.dialect.quote(s.table.ExpiryColumn), s.dialect.quote(s.table.Name), s.dialect.quote(s.table.KeyColumn)
	expr := "EXTRACT(YEAR FROM " + col + ")"
	if s.dialect == SQLite {
		expr = "CAST(substr(" + col + ", 1, 4) AS integer)"
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", expr, tbl, k, s.dialect.placeholders(1)[0])
	if err := s.db.QueryRow(q, key).Scan(&y); err != nil {
		t.Fatal(err)
	}
	return y
}

func TestSQLiteTimeFormat(t *testing.T) {
	s := testStore(t, SQLite, Options{Table: DjangoTable})
	at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	s.now = func() time.Time { return at }
	ctx := context.Background()
	if err := s.Set(ctx, "k1", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k2", []byte("v"), time.Second-123456789); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"k1": "2030-01-02 02:04:06.123456", "k2": "2030-01-02 02:04:06"}
	for k, w := range want {
		var got string
		if err := s.db.QueryRow("SELECT expire_date || '' FROM django_session WHERE session_key = ?", k).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("%s: stored %q, want %q", k, got, w)
		}
	}
}

func TestKeysPagingAndEscaping(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			s := testStore(t, d, Options{Table: scratchTable(t, d, Table{})})
			s.pageSize = 3
			ctx := context.Background()
			var want []string
			for i := range 10 {
				want = append(want, fmt.Sprintf("p!%%_:%02d", i))
			}
			others := []string{"p!x_:1", "p!%x:2", "P!%_:3", "q:4"}
			for _, k := range append(slices.Clone(want), others...) {
				if err := s.Set(ctx, k, []byte("v"), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			setAt(t, s, time.Now().Add(-time.Hour), "p!%_:expired", time.Minute)
			var got []string
			for k, err := range s.Keys(ctx, "p!%_:") {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, k)
				// The loop body may use the store.
				if _, err := s.Get(ctx, k); err != nil {
					t.Fatal(err)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("Keys = %q, want %q", got, want)
			}
			n := 0
			for range s.Keys(ctx, "p!%_:") {
				if n++; n == 4 {
					break
				}
			}
			if n != 4 {
				t.Fatalf("break after 4 keys: got %d", n)
			}
		})
	}
}

func TestTouchUnchangedExpiry(t *testing.T) {
	// MySQL reports 0 changed rows when the expiry does not change.
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			s := testStore(t, d, Options{Table: scratchTable(t, d, Table{})})
			at := time.Now()
			s.now = func() time.Time { return at }
			ctx := context.Background()
			if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
				t.Fatal(err)
			}
			for _, ttl := range []time.Duration{0, time.Hour, time.Hour} {
				if err := s.Touch(ctx, "k", ttl); err != nil {
					t.Fatalf("Touch(%v): %v", ttl, err)
				}
			}
			if err := s.Touch(ctx, "absent", time.Hour); !errors.Is(err, core.ErrNotFound) {
				t.Fatalf("Touch(absent) = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestTextEncoding(t *testing.T) {
	for _, v := range [][]byte{
		nil, []byte(""), []byte("plain:text.sig"), []byte("ünïcode ✓"),
		[]byte("nul\x00byte"), []byte("\xff\xfe"), []byte(textMarker + "looks encoded"),
	} {
		enc := encodeText(v)
		got, err := decodeText([]byte(enc))
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("round trip of %q via %q = %q, %v", v, enc, got, err)
		}
	}
	if enc := encodeText([]byte("plain")); enc != "plain" {
		t.Errorf("valid text encoded as %q", enc)
	}
	if _, err := decodeText([]byte(textMarker + "!!")); err == nil {
		t.Error("corrupt base64 decoded without error")
	}
}

func TestParseDialect(t *testing.T) {
	for name, want := range map[string]Dialect{"postgres": Postgres, "PostgreSQL": Postgres, "mysql": MySQL, "mariadb": MySQL, "sqlite": SQLite, "sqlite3": SQLite} {
		if d, err := ParseDialect(name); err != nil || d != want {
			t.Errorf("ParseDialect(%q) = %v, %v", name, d, err)
		}
		if d, _ := ParseDialect(want.String()); d != want {
			t.Errorf("String of %v does not parse back", want)
		}
	}
	if _, err := ParseDialect("oracle"); err == nil {
		t.Error("ParseDialect(oracle) succeeded")
	}
}

// TestOpenDB: a Store made by OpenDB owns the pool, and closes it when it
// cannot be made.
func TestOpenDB(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t, SQLite)
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	if _, err := OpenDB(ctx, nil, SQLite, Options{}); err == nil {
		t.Error("OpenDB accepted a nil *sql.DB")
	}
	db := open()
	if _, err := OpenDB(ctx, db, SQLite, Options{Table: Table{Name: "bad name"}}); err == nil {
		t.Error("OpenDB accepted an invalid table name")
	}
	if err := db.Ping(); err == nil {
		t.Error("OpenDB left the pool open after refusing the options")
	}
	db = open()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := OpenDB(canceled, db, SQLite, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("OpenDB with a canceled context: err = %v, want context.Canceled", err)
	}
	if err := db.Ping(); err == nil {
		t.Error("OpenDB left the pool open after a failed ping")
	}
	db = open()
	s, err := OpenDB(ctx, db, SQLite, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err == nil {
		t.Error("Close left the pool of OpenDB open")
	}
}
