package memcached

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// DefaultDeadTimeout is how long a server that could not be connected to
// stays out of the key distribution of a Store made by Open, between
// probes, when Options.DeadTimeout is zero.
const DefaultDeadTimeout = time.Second

// failoverList is the server selector of a Store made by Open. It picks a
// key's server as gomemcache's ServerList does (CRC-32 of the key modulo
// the number of servers), so that every client of the same list agrees,
// except while that server is down: a server that could not be connected
// to is down for a pause, during which its keys go to a stand-in among the
// others (found from other bits of the same hash, so that they spread) and
// read as absent there. Keys of the servers that are up never move, so
// their sessions are unaffected. Once the pause is over, a connect in the
// background probes the server while calls keep using the stand-ins; one
// that succeeds, or any other connection the client makes to it, brings
// the server back.
type failoverList struct {
	addrs   []net.Addr         // as listed: a server listed twice has twice the keys
	health  []*health          // parallel to addrs, one per distinct server
	byAddr  map[string]*health // by address, for the dialer
	pause   time.Duration      // how long a server is left out after a failed connect
	timeout time.Duration      // the client's, for probes
}

// health is the state of one server: downUntil is zero while it is up,
// else the Unix time in nanoseconds at which it is probed again.
type health struct{ downUntil atomic.Int64 }

var _ memcache.ServerSelector = (*failoverList)(nil)

// newFailoverList resolves addrs as memcache.ServerList.SetServers does,
// for a client whose timeout is timeout.
func newFailoverList(addrs []string, pause, timeout time.Duration) (*failoverList, error) {
	var list memcache.ServerList
	if err := list.SetServers(addrs...); err != nil {
		return nil, err
	}
	l := &failoverList{byAddr: make(map[string]*health), pause: pause, timeout: timeout}
	_ = list.Each(func(a net.Addr) error {
		h := l.byAddr[a.String()]
		if h == nil {
			h = new(health)
			l.byAddr[a.String()] = h
		}
		l.addrs = append(l.addrs, a)
		l.health = append(l.health, h)
		return nil
	})
	return l, nil
}

// PickServer implements memcache.ServerSelector.
func (l *failoverList) PickServer(key string) (net.Addr, error) {
	n := uint32(len(l.addrs))
	switch n {
	case 0:
		return nil, memcache.ErrNoServers
	case 1:
		return l.addrs[0], nil
	}
	sum := checksum(key)
	home := sum % n
	if !l.out(l.health[home], l.addrs[home]) {
		return l.addrs[home], nil
	}
	up := uint32(0)
	for _, h := range l.health {
		if h.downUntil.Load() == 0 {
			up++
		}
	}
	if up == 0 {
		return l.addrs[home], nil // no stand-in: the call fails against the key's own server
	}
	pick := (sum / n) % up
	for i, h := range l.health {
		if h.downUntil.Load() != 0 {
			continue
		}
		if pick == 0 {
			return l.addrs[i], nil
		}
		pick--
	}
	return l.addrs[home], nil // a server came back meanwhile
}

// checksum is crc32.ChecksumIEEE of key, which gomemcache's ServerList
// uses, computed on the string: converting it to a []byte for
// ChecksumIEEE would allocate on every call.
func checksum(key string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(key); i++ {
		crc = crc32.IEEETable[byte(crc)^key[i]] ^ crc>>8
	}
	return ^crc
}

// out reports whether calls must avoid the server of h, at addr: it is
// down. The first call that finds its pause over starts a probe in the
// background and pushes the next one a pause away; callers keep using the
// stand-ins meanwhile, so that no request waits for a server that may
// still be gone (a host that does not answer makes each connect wait the
// whole timeout).
func (l *failoverList) out(h *health, addr net.Addr) bool {
	until := h.downUntil.Load()
	if until == 0 {
		return false
	}
	if now := time.Now().UnixNano(); now >= until && h.downUntil.CompareAndSwap(until, now+int64(l.pause)) {
		go l.probe(addr)
	}
	return true
}

// probe connects to addr, within the client's timeout, and hangs up: dial
// brings the server back when that succeeds, or leaves it down for
// another pause.
func (l *failoverList) probe(addr net.Addr) {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	if c, err := l.dial(ctx, addr.Network(), addr.String()); err == nil {
		_ = c.Close()
	}
}

// Each implements memcache.ServerSelector: every server, up or down, so
// that Open's ping checks them all.
func (l *failoverList) Each(f func(net.Addr) error) error {
	for _, a := range l.addrs {
		if err := f(a); err != nil {
			return err
		}
	}
	return nil
}

// dial is the client's DialContext: it connects as gomemcache would and
// records whether the server could be reached. A failed connect marks the
// server down for the pause and returns a *dialError, which gomemcache
// passes on unchanged, so that the Store knows nothing was sent.
func (l *failoverList) dial(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer // the context carries gomemcache's connect timeout
	c, err := d.DialContext(ctx, network, address)
	h := l.byAddr[address]
	switch {
	case err != nil && h != nil:
		h.downUntil.Store(time.Now().Add(l.pause).UnixNano())
		return nil, &dialError{err: err}
	case err != nil:
		return nil, &dialError{err: err}
	case h != nil:
		h.downUntil.Store(0)
	}
	return c, nil
}

// dialError is the error of a failed connect of a failoverList's client.
// It is not a net.Error, so gomemcache returns it as it is instead of
// turning a timeout into its ConnectTimeoutError.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// again reports whether a call that failed with err, the tries-th attempt
// of a call begun at start, should be made again: when nothing was sent
// (the connect failed, which takes the server out so that the next
// attempt goes to a stand-in), or, for a read, when the server had closed
// the connection, such as a pooled connection to a server that was killed
// or restarted (a read cannot be applied twice). Retries begin only
// within retryWindow of the start, so that a call stays within
// longestCall, and never more than the pooled connections and the servers
// can explain.
func (s *Store) again(err error, read bool, tries int, start time.Time) bool {
	if tries >= s.attempts || time.Since(start) >= retryWindow(s.timeout) {
		return false
	}
	var de *dialError
	return errors.As(err, &de) || read && closedConn(err)
}

// closedConn reports whether err says the server had closed the
// connection, which gomemcache learns when it reads (EOF) or writes (a
// reset or broken pipe).
func closedConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// attemptsFor is how many attempts a call may make on client, which has
// servers servers: one, plus one for each pooled connection that may turn
// out closed, plus one for each server that may refuse a connection.
func attemptsFor(client *memcache.Client, servers int) int {
	idle := client.MaxIdleConns
	if idle <= 0 {
		idle = memcache.DefaultMaxIdleConns
	}
	return 1 + idle + servers
}
