package memcached

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

func TestParseServers(t *testing.T) {
	good := map[string][]string{
		"127.0.0.1:11211":                         {"127.0.0.1:11211"},
		" a:1 , b:2 ":                             {"a:1", "b:2"},
		"memcached://a:1,b:2":                     {"a:1", "b:2"},
		"memcached://a:1,memcached://b:2/":        {"a:1", "b:2"},
		"memcached:///run/memcached.sock":         {"/run/memcached.sock"},
		"/tmp/mc.sock,[::1]:11211":                {"/tmp/mc.sock", "[::1]:11211"},
		"a:1,a:1":                                 {"a:1", "a:1"}, // double weight
		"memcached://10.0.0.5:11211/,10.0.0.6:11": {"10.0.0.5:11211", "10.0.0.6:11"},
	}
	for in, want := range good {
		got, err := parseServers(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseServers(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "a:1,,b:2", "a:1,", "memcached://", "redis://a:1", "a:1,tcp://b:2"} {
		if got, err := parseServers(in); err == nil {
			t.Errorf("parseServers(%q) = %q, want an error", in, got)
		}
	}
}

func TestOpen(t *testing.T) {
	addrs := serverAddrs()
	requireServers(t, addrs)
	ctx := context.Background()
	s, err := Open(ctx, "memcached://"+strings.Join(addrs, ","), Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.timeout != 300*time.Millisecond || s.client.Timeout != 300*time.Millisecond {
		t.Errorf("timeout = %v, client timeout = %v; want Options.Timeout", s.timeout, s.client.Timeout)
	}
	if s.client.MaxIdleConns != DefaultMaxIdleConns {
		t.Errorf("MaxIdleConns = %d, want %d", s.client.MaxIdleConns, DefaultMaxIdleConns)
	}
	key := uniqueKey("open")
	if err := s.Set(ctx, key, []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	if got, err := s.Get(ctx, key); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}

	d, err := Open(ctx, addrs[0], Options{})
	if err != nil {
		t.Fatalf("Open with zero Options: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if d.timeout != memcache.DefaultTimeout {
		t.Errorf("timeout with zero Options = %v, want %v", d.timeout, memcache.DefaultTimeout)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	bad := map[string]struct {
		servers string
		opts    Options
	}{
		"no servers":       {"", Options{}},
		"bad port":         {"127.0.0.1:notaport", Options{}},
		"other scheme":     {"redis://127.0.0.1:6379", Options{}},
		"negative timeout": {"127.0.0.1:11211", Options{Timeout: -time.Second}},
	}
	for name, c := range bad {
		s, err := Open(ctx, c.servers, c.opts)
		if err == nil {
			_ = s.Close()
			t.Errorf("%s: Open(%q) succeeded", name, c.servers)
		} else if !strings.HasPrefix(err.Error(), "memcached: open") {
			t.Errorf("%s: error %q does not name the backend and operation", name, err)
		}
	}
}

// TestOpenPingsEveryServer opens a list whose second server is down: the
// ping must reach it and fail with the dial error.
func TestOpenPingsEveryServer(t *testing.T) {
	addrs := serverAddrs()
	requireServers(t, addrs[:1])
	closed := backendtest.ClosedAddr(t)
	start := time.Now()
	s, err := Open(context.Background(), addrs[0]+","+closed, Options{Timeout: 200 * time.Millisecond})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open with a server down succeeded")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "ping") {
		t.Errorf("Open with a server down: err = %v, want a wrapped ping error (connection refused)", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open with a server down took %v", d)
	}
}

// TestOpenBoundedByContext freezes a server: Open must give up when its
// context ends, not when the (long) client timeout does.
func TestOpenBoundedByContext(t *testing.T) {
	srv := startOwnServer(t)
	srv.signal(syscall.SIGSTOP)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := Open(ctx, srv.addr, Options{Timeout: 5 * time.Second})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a frozen server succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open of a frozen server: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Open with a 200ms deadline took %v", d)
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if _, err := Open(canceled, srv.addr, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a canceled context: err = %v, want context.Canceled", err)
	}
}

// TestCloseOwnership counts the server's client connections: Close of a
// Store made by New leaves the caller's client and its connections alone,
// Close of a Store made by Open closes its client's.
func TestCloseOwnership(t *testing.T) {
	srv := startOwnServer(t)
	stats := dialStats(t, srv.addr)
	stats.waitClients(0) // startOwnServer's probe may not be counted out yet
	ctx := context.Background()

	client := memcache.New(srv.addr)
	t.Cleanup(func() { _ = client.Close() })
	borrowed := New(client, Options{})
	if err := borrowed.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	stats.waitClients(1)
	if err := borrowed.Close(); err != nil {
		t.Fatalf("Close of a Store made by New: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // time for a wrongly closed connection to show
	stats.waitClients(1)
	if got, err := client.Get("k"); err != nil || string(got.Value) != "v" {
		t.Fatalf("the caller's client after Close = %v, %v", got, err)
	}
	_ = client.Close()
	stats.waitClients(0)

	owned, err := Open(ctx, srv.addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owned.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	stats.waitClients(1)
	if err := owned.Close(); err != nil {
		t.Fatalf("Close of a Store made by Open: %v", err)
	}
	stats.waitClients(0)
}

// statsConn is one connection to a memcached server that reads its stats.
type statsConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialStats(t *testing.T, addr string) *statsConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &statsConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// clients returns how many client connections other than its own the server
// lists in "stats conns". Only a client connection has a listen_addr line;
// its addr line names the client's end.
func (c *statsConn) clients() int {
	c.t.Helper()
	_ = c.conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprint(c.conn, "stats conns\r\n"); err != nil {
		c.t.Fatal(err)
	}
	own := "tcp:" + c.conn.LocalAddr().String()
	addrs := map[string]string{} // fd -> addr
	var clientFDs []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatal(err)
		}
		line = strings.TrimSpace(line)
		if line == "END" {
			break
		}
		fields := strings.Fields(line) // STAT <fd>:<name> <value>
		if len(fields) != 3 {
			continue
		}
		fd, name, _ := strings.Cut(fields[1], ":")
		switch name {
		case "addr":
			addrs[fd] = fields[2]
		case "listen_addr":
			clientFDs = append(clientFDs, fd)
		}
	}
	n := 0
	for _, fd := range clientFDs {
		if addrs[fd] != own {
			n++
		}
	}
	return n
}

// waitClients waits up to two seconds for the server to list want other
// clients: it notices a closed connection asynchronously.
func (c *statsConn) waitClients(want int) {
	c.t.Helper()
	var got int
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = c.clients(); got == want {
			return
		}
	}
	c.t.Fatalf("server lists %d other client connections, want %d", got, want)
}
