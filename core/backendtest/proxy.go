package backendtest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards a loopback port to a server, under the test's
// control: Down refuses and cuts every connection, as a crashed server
// does; Stall stops forwarding bytes but keeps every connection open and
// accepts new ones, as a frozen server (SIGSTOP) or a black-holing network
// does; Resume forwards again. It counts the bytes clients send through
// it, so that a test can tell what a call costs on the wire.
type Proxy struct {
	Addr   string // where clients connect
	target string
	sent   atomic.Int64

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	gate  chan struct{} // closed while bytes flow; open while stalled
}

// StartProxy starts a Proxy to target on a free loopback port; it goes down
// when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	open := make(chan struct{})
	close(open)
	p := &Proxy{Addr: ClosedAddr(t), target: target, conns: map[net.Conn]struct{}{}, gate: open}
	p.Up(t)
	t.Cleanup(p.Down)
	return p
}

// Up listens on the proxy's port again after Down.
func (p *Proxy) Up(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.serve(ln)
}

// Down closes the port and every connection, stalled ones included.
func (p *Proxy) Down() {
	p.Resume() // so that stalled pipes see their connections closed and end
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

// Stall stops forwarding: open connections stay open and silent, new ones
// are accepted and get no answer.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default: // already stalled
	}
}

// Resume forwards again what was held while stalled.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// wait blocks while the proxy is stalled.
func (p *Proxy) wait() {
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	<-gate
}

func (p *Proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

// forward connects c to the target once the proxy is not stalled and
// copies bytes both ways.
func (p *Proxy) forward(c net.Conn) {
	p.track(c)
	p.wait()
	s, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.track(s)
	go p.pipe(c, s, nil)
	go p.pipe(s, c, &p.sent)
}

// Sent returns the bytes that clients sent through the proxy since the
// last call, and starts counting afresh.
func (p *Proxy) Sent() int64 { return p.sent.Swap(0) }

func (p *Proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
}

// pipe copies src to dst, holding each chunk while the proxy is stalled,
// and adds what it forwards to count unless count is nil.
func (p *Proxy) pipe(dst, src net.Conn, count *atomic.Int64) {
	defer func() {
		_ = dst.Close()
		_ = src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			written, werr := dst.Write(buf[:n])
			if count != nil {
				count.Add(int64(written))
			}
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
