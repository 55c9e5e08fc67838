package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// atAddr returns the test DSN of dialect d pointed at addr.
func atAddr(t *testing.T, d Dialect, addr string) string {
	t.Helper()
	if d == Postgres {
		return sqltest.PostgresAt(t, addr, "")
	}
	return sqltest.MySQLAt(t, addr, "")
}

// TestUnreachable has a Store whose server does not answer: every call
// fails promptly with the connection error, never one that says the key is
// absent or changed.
func TestUnreachable(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			db, err := sql.Open(d.DriverName(), atAddr(t, d, backendtest.ClosedAddr(t)))
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(db, d, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			defer db.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_, err = s.Get(ctx, "k")
			wantConnError(t, "Get", err)
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("Get took %v, past its 1s deadline", took)
			}
			t.Logf("Get: %v", err)
			_, _, err = s.GetVersion(ctx, "k")
			wantConnError(t, "GetVersion", err)
			wantConnError(t, "Set", s.Set(ctx, "k", []byte("v"), time.Minute))
			wantConnError(t, "SetIf(nil)", s.SetIf(ctx, "k", nil, []byte("v"), time.Minute))
			wantConnError(t, "SetIf", s.SetIf(ctx, "k", core.Version("v"), []byte("w"), time.Minute))
			wantConnError(t, "DeleteIf", s.DeleteIf(ctx, "k", core.Version("v")))
			wantConnError(t, "Touch", s.Touch(ctx, "k", time.Minute))
			_, err = s.Purge(ctx)
			wantConnError(t, "Purge", err)
			wantConnError(t, "CreateTable", s.CreateTable(ctx))
		})
	}
}

func wantConnError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict) {
		t.Errorf("%s with the server unreachable: err = %v, want a connection error", what, err)
	}
}

// TestReconnect puts a TCP proxy that the test controls between the Store
// and the server: with the proxy down, calls fail fast with an error; once
// it is back, the same Store works again.
func TestReconnect(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			_ = testDB(t, d) // skips when the server is unreachable
			p := backendtest.StartProxy(t, serverAddr(t, d))
			s := storeOn(t, openDB(t, d, atAddr(t, d, p.Addr)), d, Options{Table: scratchTable(t, d, Table{})})
			ctx := context.Background()
			if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
				t.Fatal(err)
			}
			p.Down()
			short, cancel := context.WithTimeout(ctx, time.Second)
			_, err := s.Get(short, "k")
			wantConnError(t, "Get with the server gone", err)
			wantConnError(t, "SetIf with the server gone", s.SetIf(short, "k", core.Version("v"), []byte("w"), time.Hour))
			cancel()
			p.Up(t)
			deadline := time.Now().Add(10 * time.Second)
			for {
				got, err := s.Get(ctx, "k")
				if err == nil && string(got) == "v" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("Get after the server came back: %q, %v", got, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			_, v, err := s.GetVersion(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetIf(ctx, "k", v, []byte("w"), time.Hour); err != nil {
				t.Fatalf("SetIf after the server came back: %v", err)
			}
		})
	}
}

func serverAddr(t *testing.T, d Dialect) string {
	if d == Postgres {
		return sqltest.PostgresAddr(t)
	}
	return sqltest.MySQLAddr(t)
}

// TestTimeout has a Store made by New over the caller's *sql.DB call a
// database behind a proxy that stopped forwarding: Options.Timeout bounds
// each call when the caller's context ends later or never, the context
// does when it ends sooner, and a negative Timeout leaves the context as
// the only bound.
func TestTimeout(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			_ = testDB(t, d) // skips when the server is unreachable
			p := backendtest.StartProxy(t, serverAddr(t, d))
			db := openDB(t, d, atAddr(t, d, p.Addr))
			table := scratchTable(t, d, Table{})
			storeOn(t, db, d, Options{Table: table}) // creates the table
			p.Stall()
			for _, c := range []struct {
				name     string
				timeout  time.Duration
				deadline time.Duration // of the caller's context; none when zero
				min, max time.Duration
			}{
				{"default", 0, 0, DefaultTimeout - 50*time.Millisecond, DefaultTimeout + 400*time.Millisecond},
				{"default, later deadline", 0, time.Minute, DefaultTimeout - 50*time.Millisecond, DefaultTimeout + 400*time.Millisecond},
				{"200ms", 200 * time.Millisecond, 0, 150 * time.Millisecond, 700 * time.Millisecond},
				{"earlier deadline", 0, 100 * time.Millisecond, 50 * time.Millisecond, 600 * time.Millisecond},
				{"negative", -1, 1800 * time.Millisecond, 1750 * time.Millisecond, 2300 * time.Millisecond},
			} {
				s, err := New(db, d, Options{Table: table, Timeout: c.timeout, CleanupInterval: -1})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if c.deadline > 0 {
					ctx, cancel = context.WithTimeout(ctx, c.deadline)
				}
				o := backendtest.Timed(func(context.Context) error { _, err := s.Get(ctx, "k"); return err })
				took, err := o.Took, o.Err
				cancel()
				_ = s.Close()
				if !errors.Is(err, context.DeadlineExceeded) || took < c.min || took > c.max {
					t.Errorf("%s: Get on a stalled server: %v after %v, want a deadline error after %v to %v",
						c.name, err, took, c.min, c.max)
				}
			}
			p.Resume()
		})
	}
}
