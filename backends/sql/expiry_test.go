package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/core"
)

// TestExpiresAtDjangoRows reads the expiry of rows as Django writes them,
// and of a row stored without expiry in Django's NOT NULL column.
func TestExpiresAtDjangoRows(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			s := testStore(t, d, Options{Table: scratchTable(t, d, DjangoTable)})
			ctx := context.Background()
			if err := s.Set(ctx, "forever", []byte("x"), 0); err != nil {
				t.Fatal(err)
			}
			if got, err := s.ExpiresAt(ctx, "forever"); err != nil || !got.IsZero() {
				t.Errorf("ExpiresAt of a key without expiry = %v, %v; want the zero time", got, err)
			}
			insert := fmt.Sprintf("INSERT INTO %s (session_key, session_data, expire_date) VALUES (%s)",
				d.quote(s.table.Name), strings.Join(d.placeholders(3), ", "))
			now := time.Now().UTC()
			rows := map[string]time.Time{
				"whole":    now.Add(time.Hour).Truncate(time.Second),
				"micro":    now.Add(time.Hour).Truncate(time.Second).Add(123456 * time.Microsecond),
				"expired":  now.Add(-time.Minute),
				"sentinel": farFuture,
			}
			for k, at := range rows {
				if _, err := s.db.Exec(insert, k, "x", djangoTime(d, at)); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range []string{"whole", "micro"} {
				if got, err := s.ExpiresAt(ctx, k); err != nil || !got.Equal(rows[k]) {
					t.Errorf("ExpiresAt(%s) = %v, %v; want %v", k, got, err, rows[k])
				}
			}
			if got, err := s.ExpiresAt(ctx, "sentinel"); err != nil || !got.IsZero() {
				t.Errorf("ExpiresAt of Django's 9999-12-31 = %v, %v; want the zero time", got, err)
			}
			if _, err := s.ExpiresAt(ctx, "expired"); !errors.Is(err, core.ErrNotFound) {
				t.Errorf("ExpiresAt of an expired row: err = %v, want ErrNotFound", err)
			}
			if _, err := s.ExpiresAt(ctx, "absent"); !errors.Is(err, core.ErrNotFound) {
				t.Errorf("ExpiresAt of an absent key: err = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestExpiresAtMySQLLocation: the MySQL driver parses times in its loc
// setting, which the Store's UTC text does not follow; ExpiresAt reads the
// text, so the connection's setting changes nothing.
func TestExpiresAtMySQLLocation(t *testing.T) {
	cfg, err := mysql.ParseDSN(sqltest.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, parse := range []bool{true, false} {
		cfg.ParseTime = parse
		if cfg.Loc, err = time.LoadLocation("Asia/Tokyo"); err != nil {
			t.Skip(err)
		}
		s := storeOn(t, openDB(t, MySQL, cfg.FormatDSN()), MySQL, Options{Table: scratchTable(t, MySQL, Table{})})
		ctx := context.Background()
		from := time.Now()
		if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := s.ExpiresAt(ctx, "k")
		if lo, hi := from.Add(time.Hour), time.Now().Add(time.Hour); err != nil || got.Before(lo.Truncate(time.Microsecond)) || got.After(hi) {
			t.Errorf("parseTime=%v: ExpiresAt = %v, %v; want between %v and %v", parse, got, err, lo, hi)
		}
	}
}

func TestExpiryOf(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
	for _, c := range []struct {
		stored any
		want   time.Time
	}{
		{nil, time.Time{}},
		{at.In(time.FixedZone("X", 3600)), at},
		{"2030-01-02 03:04:05.123456", at},
		{[]byte("2030-01-02 03:04:05"), at.Truncate(time.Second)},
		{"9999-12-31 00:00:00.000000", time.Time{}},
		{farFuture, time.Time{}},
	} {
		got, err := expiryOf(c.stored)
		if err != nil || !got.Equal(c.want) || got.Location() != c.want.Location() {
			t.Errorf("expiryOf(%v) = %v, %v; want %v", c.stored, got, err, c.want)
		}
	}
	for _, bad := range []any{"soon", int64(1893553445), 1.5} {
		if got, err := expiryOf(bad); err == nil {
			t.Errorf("expiryOf(%v) = %v, want an error", bad, got)
		}
	}
}
