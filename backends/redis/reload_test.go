package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func TestTakeReloadOnFailure(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  time.Duration
		set   bool
		bad   bool
	}{
		{"", DefaultReloadOnFailure, false, false},
		{"pool_size=5", DefaultReloadOnFailure, false, false},
		{"reload_on_failure=500ms&pool_size=5", 500 * time.Millisecond, true, false},
		{"reload_on_failure=0", 0, true, false},
		{"reload_on_failure=off", 0, true, false},
		{"reload_on_failure=-1s", 0, true, true},
		{"reload_on_failure=soon", 0, true, true},
	} {
		u := &url.URL{Scheme: "redis", Host: "h:1", RawQuery: tc.query}
		got, set, err := takeReloadOnFailure(u)
		if (err != nil) != tc.bad || got != tc.want || set != tc.set {
			t.Errorf("%q: %v, %v, %v; want %v, %v, error %v", tc.query, got, set, err, tc.want, tc.set, tc.bad)
		}
		if strings.Contains(u.RawQuery, reloadParam) {
			t.Errorf("%q: left %q for go-redis, which refuses it", tc.query, u.RawQuery)
		}
	}
}

// TestReloadOnFailureURL checks that Open's parser takes the parameter on
// Cluster URLs only, and refuses bad values, without a server.
func TestReloadOnFailureURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"redis+cluster://127.0.0.1:7001?reload_on_failure=1s":                 true,
		"redis+cluster://127.0.0.1:7001?reload_on_failure=off":                true,
		"redis://127.0.0.1:7001,127.0.0.1:7002?reload_on_failure=0":           true,
		"redis+cluster://127.0.0.1:7001?reload_on_failure=often":              false,
		"redis://127.0.0.1:6379?reload_on_failure=1s":                         false,
		"redis+sentinel://127.0.0.1:26390?master_name=m&reload_on_failure=1s": false,
	} {
		client, err := clientFromURL(raw, DefaultTimeout)
		if err == nil {
			_ = client.Close()
		}
		if (err == nil) != ok {
			t.Errorf("clientFromURL(%q): %v, want success %v", raw, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), reloadParam) {
			t.Errorf("clientFromURL(%q): error %q does not name %s", raw, err, reloadParam)
		}
	}
}

func TestNodeFailure(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{goredis.Nil, false},
		{fmt.Errorf("redis: get: %w", goredis.Nil), false},
		{context.Canceled, false},
		{errors.New("ERR wrong number of arguments"), false},
		{errors.New("NOSCRIPT No matching script"), false},
		{refused, true},
		{fmt.Errorf("redis: set %q: %w", "k", refused), true},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{context.DeadlineExceeded, true},
		{goredis.ErrPoolTimeout, true},
		{errors.New("CLUSTERDOWN The cluster is down"), true},
	} {
		if got := nodeFailure(tc.err); got != tc.want {
			t.Errorf("nodeFailure(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestReloaderRateLimit checks that a burst of failures from many
// goroutines asks for one reload, that replies of the server's ask for
// none, and that a failure an interval later asks again.
func TestReloaderRateLimit(t *testing.T) {
	var reloads atomic.Int32
	const every = time.Minute // longer than any burst, however slow the machine
	r := newReloader(func(context.Context) { reloads.Add(1) }, every)
	hook := r.ProcessHook(func(context.Context, goredis.Cmder) error { return io.EOF })
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = hook(context.Background(), goredis.NewCmd(context.Background(), "get", "k"))
		}()
	}
	wg.Wait()
	if n := reloads.Load(); n != 1 {
		t.Fatalf("50 failures at once asked for %d reloads, want 1", n)
	}
	r.epoch = r.epoch.Add(-every) // as if an interval had passed
	r.failed(goredis.Nil)
	if n := reloads.Load(); n != 1 {
		t.Fatalf("goredis.Nil asked for a reload (%d in all)", n)
	}
	pipe := r.ProcessPipelineHook(func(context.Context, []goredis.Cmder) error { return io.EOF })
	_ = pipe(context.Background(), nil)
	if n := reloads.Load(); n != 2 {
		t.Fatalf("a failed pipeline an interval later: %d reloads in all, want 2", n)
	}
}
