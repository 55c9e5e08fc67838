package redis

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// deadlineHook records the deadline of the context each command is sent
// with (zero for none).
type deadlineHook struct {
	mu        sync.Mutex
	deadlines []time.Time
}

func (h *deadlineHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *deadlineHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		deadline, _ := ctx.Deadline()
		h.mu.Lock()
		h.deadlines = append(h.deadlines, deadline)
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *deadlineHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// last returns the deadline of the latest command and forgets the others.
func (h *deadlineHook) last(t *testing.T) time.Time {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.deadlines) == 0 {
		t.Fatal("no command was sent")
	}
	d := h.deadlines[len(h.deadlines)-1]
	h.deadlines = nil
	return d
}

// TestStoreDeadline checks the deadline each command of the Store is sent
// with: Options.Timeout past the call's start unless the caller's context
// ends sooner, and none of the Store's own for New with zero Options (the
// user's client keeps its settings) or a negative Timeout.
func TestStoreDeadline(t *testing.T) {
	client := standaloneClient(t)
	hook := &deadlineHook{}
	client.AddHook(hook)
	key := testKey(t, client, "deadline")
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name    string
		timeout time.Duration // Options.Timeout
		ctx     time.Duration // the caller's deadline; 0: none
		want    time.Duration // the deadline expected; 0: none
	}{
		{"New default, no deadline", 0, 0, 0},
		{"New default, caller's deadline", 0, time.Minute, time.Minute},
		{"negative", -1, 0, 0},
		{"timeout, no deadline", timeout, 0, timeout},
		{"timeout, later deadline", timeout, time.Minute, timeout},
		{"timeout, sooner deadline", timeout, 100 * time.Millisecond, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := New(client, Options{Timeout: tc.timeout})
			for _, c := range storeCalls(store, key) {
				start := time.Now()
				ctx, cancel := context.WithCancel(context.Background())
				if tc.ctx > 0 {
					ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				}
				err := c.call(ctx)
				end := time.Now()
				cancel()
				if err != nil && !isReply(err) {
					t.Fatalf("%s: %v", c.name, err)
				}
				got := hook.last(t)
				switch {
				case tc.want == 0 && !got.IsZero():
					t.Errorf("%s sent with a deadline %v away, want none", c.name, got.Sub(start))
				case tc.want > 0 && got.IsZero():
					t.Errorf("%s sent without a deadline, want one %v away", c.name, tc.want)
				case tc.want > 0 && (got.Before(start.Add(tc.want-50*time.Millisecond)) || got.After(end.Add(tc.want))):
					t.Errorf("%s sent with a deadline %v away, want %v", c.name, got.Sub(start), tc.want)
				}
			}
		})
	}
}

// isReply reports whether err is the server's answer (not found, conflict)
// rather than a failure to get one.
func isReply(err error) bool { return !isConnectionError(err) }

// TestOpenTimeouts checks the client options Open sets, without a server:
// each timeout the URL leaves unset becomes Options.Timeout (DefaultTimeout
// when zero) on every topology, a timeout the URL sets is kept, and a
// negative Options.Timeout keeps go-redis's defaults.
func TestOpenTimeouts(t *testing.T) {
	type timeouts struct{ dial, read, write, pool time.Duration }
	d := DefaultTimeout
	for _, tc := range []struct {
		url     string
		timeout time.Duration
		want    timeouts
	}{
		{"redis://127.0.0.1:6379/0", 0, timeouts{d, d, d, d}},
		{"redis://127.0.0.1:6379/0", 700 * time.Millisecond, timeouts{700 * time.Millisecond, 700 * time.Millisecond, 700 * time.Millisecond, 700 * time.Millisecond}},
		{"redis://127.0.0.1:6379/0?read_timeout=3s&pool_timeout=4s", 0, timeouts{d, 3 * time.Second, d, 4 * time.Second}},
		// go-redis reads 0 as "no timeout", which the URL may ask for.
		{"redis://127.0.0.1:6379/0?dial_timeout=2s&write_timeout=0", 0, timeouts{2 * time.Second, d, 0, d}},
		// A negative Timeout: go-redis's own defaults (5 s, 5 s, 5 s, 6 s).
		{"redis://127.0.0.1:6379/0", -1, timeouts{5 * time.Second, 5 * time.Second, 5 * time.Second, 6 * time.Second}},
		{"unix:///run/redis.sock", 0, timeouts{d, d, d, d}},
		{"redis+cluster://127.0.0.1:7001,127.0.0.1:7002", 0, timeouts{d, d, d, d}},
		{"redis://127.0.0.1:7001,127.0.0.1:7002?read_timeout=2s", 0, timeouts{d, 2 * time.Second, d, d}},
		{"redis+sentinel://127.0.0.1:26390?master_name=m", 0, timeouts{d, d, d, d}},
		{"redis+sentinel://127.0.0.1:26390?master_name=m&dial_timeout=250ms", 0, timeouts{250 * time.Millisecond, d, d, d}},
	} {
		timeout := tc.timeout
		if timeout == 0 {
			timeout = DefaultTimeout // as Open does
		}
		client, err := clientFromURL(tc.url, timeout)
		if err != nil {
			t.Errorf("clientFromURL(%q): %v", tc.url, err)
			continue
		}
		var got timeouts
		var ctxTimeouts bool
		switch c := client.(type) {
		case *goredis.Client: // one server, or Sentinel's failover client
			o := c.Options()
			got, ctxTimeouts = timeouts{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout}, o.ContextTimeoutEnabled
		case *goredis.ClusterClient:
			o := c.Options()
			got, ctxTimeouts = timeouts{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout}, o.ContextTimeoutEnabled
		default:
			t.Fatalf("clientFromURL(%q) built a %T", tc.url, client)
		}
		if got != tc.want || !ctxTimeouts {
			t.Errorf("clientFromURL(%q, %v): dial, read, write, pool = %v, context timeouts %v; want %v, true",
				tc.url, timeout, got, ctxTimeouts, tc.want)
		}
		_ = client.Close()
	}
}

// TestOpenStoreTimeout checks the per-call bound of the Store Open returns:
// DefaultTimeout for zero Options, the one asked for otherwise.
func TestOpenStoreTimeout(t *testing.T) {
	for _, tc := range []struct{ opt, want time.Duration }{
		{0, DefaultTimeout},
		{700 * time.Millisecond, 700 * time.Millisecond},
		{-1, -1},
	} {
		store, err := Open(context.Background(), "redis://"+standaloneAddr()+"/0", Options{Timeout: tc.opt})
		if err != nil {
			backendtest.Unavailable(t, "redis at "+standaloneAddr(), err)
		}
		if store.timeout != tc.want {
			t.Errorf("Open with Timeout %v: the Store bounds calls by %v, want %v", tc.opt, store.timeout, tc.want)
		}
		_ = store.Close()
	}
}

// TestOpenUnreachableNoDeadline checks that Open, given a context without a
// deadline, still gives up on a server that does not answer: Open's ping
// is bounded by the Store's timeout.
func TestOpenUnreachableNoDeadline(t *testing.T) {
	t.Parallel()
	// A listener that accepts connections and never answers, as a frozen
	// server does.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for name, raw := range map[string]string{
		"silent":     "redis://" + ln.Addr().String(),
		"refused":    "redis://" + backendtest.ClosedAddr(t),
		"cluster":    "redis+cluster://" + ln.Addr().String(),
		"sentinel":   "redis+sentinel://" + ln.Addr().String() + "?master_name=m",
		"refused-st": "redis+sentinel://" + backendtest.ClosedAddr(t) + "?master_name=m",
	} {
		t.Run(name, func(t *testing.T) {
			o := backendtest.Timed(func(ctx context.Context) error {
				store, err := Open(ctx, raw, Options{})
				if err == nil {
					_ = store.Close()
					return errors.New("Open succeeded")
				}
				return err
			})
			backendtest.WantFast(t, "Open", o, func(err error) bool { return strings.HasPrefix(err.Error(), "redis: open ") })
			t.Logf("Open failed after %v: %v", o.Took.Round(time.Millisecond), o.Err)
		})
	}
}
