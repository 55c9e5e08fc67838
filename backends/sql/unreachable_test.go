package sqlstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// withAddr returns the test DSN of dialect d pointed at addr.
func withAddr(t *testing.T, d Dialect, addr string) string {
	t.Helper()
	if d == Postgres {
		u, err := url.Parse(backendtest.Env(postgresEnv, postgresDefault))
		if err != nil {
			t.Fatal(err)
		}
		u.Host = addr
		q := u.Query()
		q.Set("connect_timeout", "2")
		u.RawQuery = q.Encode()
		return u.String()
	}
	cfg, err := mysql.ParseDSN(backendtest.Env(mysqlEnv, mysqlDefault))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Net, cfg.Addr, cfg.Timeout = "tcp", addr, 2*time.Second
	return cfg.FormatDSN()
}

func TestUnreachable(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			s, err := Open(d, withAddr(t, d, closedAddr(t)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_, err = s.Get(ctx, "k")
			if err == nil || errors.Is(err, core.ErrNotFound) {
				t.Fatalf("Get from a closed port: err = %v, want a connection error", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("Get took %v, past its 1s deadline", took)
			}
			t.Logf("Get: %v", err)
			if err := s.Set(ctx, "k", []byte("v"), time.Minute); err == nil {
				t.Fatal("Set to a closed port succeeded")
			}
			if err := s.CreateTable(ctx); err == nil {
				t.Fatal("CreateTable on a closed port succeeded")
			}
		})
	}
	t.Run("sqlite", func(t *testing.T) {
		s, err := Open(SQLite, filepath.Join(t.TempDir(), "missing", "dir", "s.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.CreateTable(context.Background()); err == nil {
			t.Fatal("CreateTable in a missing directory succeeded")
		} else {
			t.Logf("CreateTable: %v", err)
		}
	})
}

// TestReconnect puts a TCP proxy that the test controls between the Store
// and the server: with the proxy down, calls fail fast with an error; once
// it is back, the same Store works again.
func TestReconnect(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			_ = testDB(t, d) // skips when the server is unreachable
			target := serverAddr(t, d)
			p := startProxy(t, target)
			s, err := Open(d, withAddr(t, d, p.addr), Options{Table: scratchTable(t, d, Table{})})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			if err := s.CreateTable(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
				t.Fatal(err)
			}
			p.down()
			short, cancel := context.WithTimeout(ctx, time.Second)
			_, err = s.Get(short, "k")
			cancel()
			if err == nil || errors.Is(err, core.ErrNotFound) {
				t.Fatalf("Get with the server gone: err = %v, want a connection error", err)
			}
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
		})
	}
}

func serverAddr(t *testing.T, d Dialect) string {
	t.Helper()
	if d == Postgres {
		u, err := url.Parse(backendtest.Env(postgresEnv, postgresDefault))
		if err != nil {
			t.Fatal(err)
		}
		return u.Host
	}
	cfg, err := mysql.ParseDSN(backendtest.Env(mysqlEnv, mysqlDefault))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Addr
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
	p := &proxy{addr: closedAddr(t), target: target, conns: map[net.Conn]struct{}{}}
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
