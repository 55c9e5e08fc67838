package mongodb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// countingProxy forwards a loopback port to a server and counts the bytes
// that clients send through it: what a command costs on the wire. (A copy
// of the SQL backend's.)
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

// countedStore returns a Store on a fresh collection whose client reaches
// the test server through a countingProxy. The client talks to that one
// server directly and sends no heartbeats in between (a heartbeat
// interval of a minute), so that the count is the store's commands.
func countedStore(t testing.TB) (*Store, *countingProxy) {
	t.Helper()
	testClient(t) // skips when the server is down
	u, err := url.Parse(testURI())
	if err != nil {
		t.Fatal(err)
	}
	p := startCountingProxy(t, u.Host)
	u.Host = p.addr
	opts := options.Client().ApplyURI(u.String()).SetDirect(true).
		SetHeartbeatInterval(time.Minute).SetServerSelectionTimeout(3 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return newTestStoreOn(t, freshCollection(t, client), Options{CleanupInterval: -1}), p
}

// sentValues are two values of size bytes that differ in every byte.
func sentValues(size int) [2][]byte {
	v := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	return [2][]byte{v, bytes.ToUpper(v)}
}

// TestConditionalSendsValueOnce measures, through a counting proxy, what a
// conditional write of a 64 KiB value sends to the server: the new value
// once and a digest of the old one, not the old value again.
func TestConditionalSendsValueOnce(t *testing.T) {
	s, p := countedStore(t)
	ctx := context.Background()
	values := sentValues(64 << 10)
	if err := s.Set(ctx, "k", values[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	_, v, err := s.GetVersion(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	p.taken()
	if err := s.SetIf(ctx, "k", v, values[1], time.Hour); err != nil {
		t.Fatal(err)
	}
	sent := p.taken()
	t.Logf("SetIf of %d bytes sent %d bytes", len(values[1]), sent)
	if n := int64(len(values[1])); sent < n || sent >= n*5/4 {
		t.Errorf("SetIf of %d bytes sent %d bytes, want at least the value and under 1.25 times it", n, sent)
	}
	if _, v, err = s.GetVersion(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	p.taken()
	if err := s.DeleteIf(ctx, "k", v); err != nil {
		t.Fatal(err)
	}
	sent = p.taken()
	t.Logf("DeleteIf sent %d bytes", sent)
	if n := int64(len(values[1])); sent >= n/4 {
		t.Errorf("DeleteIf of a %d-byte value sent %d bytes, want under a quarter of it", n, sent)
	}
}

// BenchmarkSetIfSent measures, through a counting proxy, the bytes a
// conditional write sends to the server (sent-B/op) with values of 4 KiB
// and 64 KiB, each write with the version of the one before it, as the
// Manager knows it from VersionOf.
func BenchmarkSetIfSent(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s, p := countedStore(b)
			ctx := context.Background()
			values := sentValues(size)
			if err := s.Set(ctx, "bench", values[0], time.Hour); err != nil {
				b.Fatal(err)
			}
			p.taken()
			i := 0
			for b.Loop() {
				if err := s.SetIf(ctx, "bench", s.VersionOf(values[i%2]), values[(i+1)%2], time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(p.taken())/float64(i), "sent-B/op")
		})
	}
}
