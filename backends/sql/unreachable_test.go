package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"sync"
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
			p := startProxy(t, serverAddr(t, d))
			s := storeOn(t, openDB(t, d, atAddr(t, d, p.addr)), d, Options{Table: scratchTable(t, d, Table{})})
			ctx := context.Background()
			if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
				t.Fatal(err)
			}
			p.down()
			short, cancel := context.WithTimeout(ctx, time.Second)
			_, err := s.Get(short, "k")
			wantConnError(t, "Get with the server gone", err)
			wantConnError(t, "SetIf with the server gone", s.SetIf(short, "k", core.Version("v"), []byte("w"), time.Hour))
			cancel()
			p.up(t)
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

// proxy forwards a loopback port to target until down, which also cuts
// every open connection; up listens on the same port again.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{addr: backendtest.ClosedAddr(t), target: target, conns: map[net.Conn]struct{}{}}
	p.up(t)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.serve(ln)
}

func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go pipe(c, s)
		go pipe(s, c)
	}
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}
