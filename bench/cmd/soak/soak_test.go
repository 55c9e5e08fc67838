package main

import (
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// TestSoakShort is make test's soak: 9 s per backend, 20 clients over 500
// sessions, windows of 3 s. It checks that no request failed, that the
// store's count matches the clients' sessions, and that RSS and goroutines
// stay flat. Windows of 3 s are too short for a p99 latency that a shared
// 2-core machine does not move by more than 10%: the latencies are only
// reported here, and the long run by hand (bench/README.md) checks them.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak takes half a minute")
	}
	ctx := t.Context()
	bin, err := BuildDemo(ctx, t.TempDir()) // once for every backend
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ backend, dsn string }{
		{"memory", ""},
		{"redis", "redis://" + backendtest.Env("CLOAKROOM_REDIS_ADDR", "127.0.0.1:6379")},
		{"postgres", backendtest.Env("CLOAKROOM_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			if tc.dsn != "" {
				reachable(t, tc.backend, tc.dsn)
			}
			rep, err := Run(ctx, shortConfig(tc.backend, tc.dsn, bin), t.Output())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Failures() {
				t.Error(f)
			}
			if rep.Ops["read"] == 0 || rep.Ops["incr"] == 0 || rep.Ops["login"] == 0 {
				t.Errorf("the mix was not sent: %v", rep.Ops)
			}
			if rep.End.Count != rep.Expected {
				t.Errorf("%d sessions in the store, %d expected", rep.End.Count, rep.Expected)
			}
		})
	}
}

// shortConfig is the short run's configuration. The slacks are what a run
// this short moves by without leaking: the heap and the connection pools
// settle over minutes, not seconds.
func shortConfig(backend, dsn, bin string) Config {
	return Config{
		Backend:  backend,
		DSN:      dsn,
		Demo:     bin,
		Warmup:   2 * time.Second,
		Duration: 9 * time.Second,
		Clients:  20,
		Sessions: 500,
		Window:   3 * time.Second,
		Sample:   250 * time.Millisecond,
		Limits:   Limits{Growth: 0.10, RSSSlack: 8 << 20, GoroutineSlack: 20},
	}
}

// reachable skips the test (fails it under CLOAKROOM_REQUIRE_SERVICES=1)
// when nothing listens at dsn's host.
func reachable(t *testing.T, what, dsn string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		backendtest.Unavailable(t, what+" at "+u.Host, err)
	}
	c.Close()
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0.999, 999 * time.Millisecond}} {
		got := h.quantile(c.q)
		if d := got - c.want; d < -c.want/50 || d > c.want/50 {
			t.Errorf("quantile(%v) = %v, want %v within 2%%", c.q, got, c.want)
		}
	}
	for _, ns := range []int64{0, 1, 31, 32, 33, 1000, 1 << 40, 1<<62 + 12345} {
		if mid := bucketMid(bucket(ns)); float64(mid) < float64(ns)*0.98 || float64(mid) > float64(ns)*1.02+1 {
			t.Errorf("bucket of %d has middle %d", ns, mid)
		}
	}
}

func TestGrowthRule(t *testing.T) {
	for _, c := range []struct {
		first, last, slack int64
		fail               bool
	}{
		{100, 110, 0, false}, // 10% is allowed
		{100, 111, 0, true},
		{100, 200, 150, false}, // within the slack
		{100, 300, 150, true},
		{0, 0, 0, false},
	} {
		g := growth{first: c.first, last: c.last, slack: c.slack}
		if got := g.tooMuch(0.10); got != c.fail {
			t.Errorf("growth %d -> %d, slack %d: tooMuch = %v", c.first, c.last, c.slack, got)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, args := range [][]string{
		{"-backend", "mongodb"},
		{"-clients", "10", "-sessions", "5"},
		{"-window", "0"},
		{"-sample", "2m"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if _, err := parseFlags([]string{"-backend", "redis", "-duration", "3m", "-window", "30s"}); err != nil {
		t.Error(err)
	}
}
