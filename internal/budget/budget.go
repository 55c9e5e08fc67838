// Package budget counts what each client address is allowed per minute, so
// that one client cannot take what is meant for everybody.
package budget

import (
	"net/netip"
	"sync"
	"time"
)

// window is the period a budget is counted over.
const window = time.Minute

// MaxTracked bounds the addresses a Limiter counts at once. Past it, new
// addresses are let through uncounted until the window turns: refusing
// them would let whoever has that many addresses lock everybody else out,
// and such a client is not stopped by a per-address budget anyway.
const MaxTracked = 1 << 16

// Limiter allows each client address a number of events per minute. It
// keeps two generations of counts, the current minute's and the last
// one's, and weighs the last by how much of it still lies within a minute
// of now: a sliding window without a timer or a scan. Its zero value is
// ready to use.
type Limiter struct {
	mu      sync.Mutex
	started time.Time // when cur began
	cur     map[netip.Addr]int
	prev    map[netip.Addr]int
}

// Allow reports whether addr may have one more event at now when it may
// have perMinute of them, and counts it if so. IPv6 clients are counted by
// their /64 network, which one client usually holds whole. An invalid
// address, a client the server cannot tell apart, is always allowed.
func (l *Limiter) Allow(addr netip.Addr, now time.Time, perMinute int) bool {
	if !addr.IsValid() {
		return true
	}
	addr = Client(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	n, counted := l.cur[addr]
	if !counted && len(l.cur) >= MaxTracked {
		return true
	}
	left := 1 - float64(now.Sub(l.started))/float64(window)
	if float64(n)+float64(l.prev[addr])*max(left, 0) >= float64(perMinute) {
		return false
	}
	l.cur[addr] = n + 1
	return true
}

// Client returns the address a budget is counted for: addr itself for
// IPv4, its /64 network for IPv6.
func Client(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// rotate starts a new generation when the current one is a window old; after
// two idle windows both are dropped.
func (l *Limiter) rotate(now time.Time) {
	switch age := now.Sub(l.started); {
	case l.cur == nil || age >= 2*window || age < 0:
		l.prev, l.cur, l.started = nil, make(map[netip.Addr]int), now
	case age >= window:
		l.prev, l.cur, l.started = l.cur, make(map[netip.Addr]int), l.started.Add(window)
	}
}
