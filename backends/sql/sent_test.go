package sqlstore

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
)

// countingProxy forwards a loopback port to a server and counts the bytes
// that clients send through it: what a statement costs on the wire.
type countingProxy struct {
	addr string
	sent atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

// startCountingProxy starts a countingProxy to target; it stops when the
// test ends.
func startCountingProxy(t testing.TB, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.forward(c, target)
			}()
		}
	}()
	return p
}

// forward copies c to the target, counting, and the answers back.
func (p *countingProxy) forward(c net.Conn, target string) {
	s, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, s)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(c, s)
		_ = c.Close()
	}()
	_, _ = io.Copy(countingWriter{s, &p.sent}, c)
	_ = s.Close()
	<-done
}

// taken returns the bytes sent since the last call.
func (p *countingProxy) taken() int64 { return p.sent.Swap(0) }

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (cw countingWriter) Write(b []byte) (int, error) {
	n, err := cw.w.Write(b)
	cw.n.Add(int64(n))
	return n, err
}

// countedStore returns a Store of target tg on a scratch table, connected
// through a countingProxy.
func countedStore(t testing.TB, tg target, base Table) (*Store, *countingProxy) {
	t.Helper()
	_ = testDB(t, tg.dialect) // skips when the server is unreachable; creates the database
	var addr, dsn string
	if tg.dialect == Postgres {
		addr = sqltest.PostgresAddr(t)
	} else {
		addr = sqltest.MySQLAddr(t)
	}
	p := startCountingProxy(t, addr)
	if tg.dialect == Postgres {
		dsn = sqltest.PostgresVia(t, p.addr)
	} else {
		dsn = sqltest.MySQLVia(t, p.addr) + tg.params
	}
	db := openDB(t, tg.dialect, dsn)
	db.SetMaxOpenConns(1) // no connection opened mid-measure
	s := storeOn(t, db, tg.dialect, Options{Table: scratchTable(t, tg.dialect, base), CleanupInterval: -1})
	return s, p
}

// TestConditionalSendsValueOnce measures, through a counting proxy, what a
// conditional write of a 64 KiB value sends to the server: the new value
// once and a digest of the old one, not the old value again.
func TestConditionalSendsValueOnce(t *testing.T) {
	for _, tg := range targets {
		if tg.dialect == SQLite { // a local file: it compares the value itself
			continue
		}
		for _, l := range layouts {
			t.Run(tg.name+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				s, p := countedStore(t, tg, l.table)
				ctx := context.Background()
				v1 := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
				v2 := bytes.ToUpper(v1)
				mustSet(t, s, "k", v1, time.Hour)
				old := version(t, s, "k")
				p.taken()
				wantIs(t, "SetIf", s.SetIf(ctx, "k", old, v2, time.Hour), nil)
				sent := p.taken()
				t.Logf("SetIf of %d bytes sent %d bytes", len(v2), sent)
				if sent < int64(len(v2)) || sent >= int64(len(v2))*5/4 {
					t.Errorf("SetIf of %d bytes sent %d bytes, want at least the value and under 1.25 times it", len(v2), sent)
				}
				old = version(t, s, "k")
				p.taken()
				wantIs(t, "DeleteIf", s.DeleteIf(ctx, "k", old), nil)
				sent = p.taken()
				t.Logf("DeleteIf sent %d bytes", sent)
				if sent >= int64(len(v2))/4 {
					t.Errorf("DeleteIf of a %d-byte value sent %d bytes, want under a quarter of it", len(v2), sent)
				}
			})
		}
	}
}
