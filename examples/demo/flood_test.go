package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// The flood of issue 15: on the default memory store (64 MiB), 20 users
// log in and read their session once; then 350 new sessions each take four
// PUTs of a 60 KB string under four keys, from clients that send their
// cookie back, so that each session is read again before each later write
// and grows to 240 KB: 84 MB, more than the store holds, of sessions that
// look like returning users. In the issue, 2 of 20 users kept their
// session.
const (
	floodUsers    = 20
	floodSessions = 350
	floodWrites   = 4
	floodWorkers  = 8 // flood sessions in flight at once
)

// floodValue is a JSON string of 60,000 bytes, under the demo's 64 KB body
// bound.
var floodValue = `"` + strings.Repeat("x", 60_000) + `"`

// floodCase is where the flood comes from, the store it meets, and how
// often the users come back during it.
type floodCase struct {
	name     string
	addrs    int   // client addresses: 127.0.0.1 for one, else 127.0.0.2 and on
	maxBytes int64 // the store's bound; 0: the default, 64 MiB
	revisit  int   // flood sessions between two visits of the users; 0: none
}

// floodStats counts what the flood and the users sent.
type floodStats struct {
	requests, bytes, refused atomic.Int64
}

// TestDemoFlood floods the demo as issue 15 did, from one client address
// and from fifty (Linux routes all of 127.0.0.0/8 to the loopback
// interface), and checks that every user still has their session.
//
// In the issue, users who came back every 1.5 s lost their session too:
// 51 MB of the flood passed between two visits, three quarters of what the
// store holds. The revisit case does the same against a store of 16 MiB,
// with a visit every 50 flood sessions (12 MB), so that the flood is five
// times the store's capacity without taking four times as long under the
// race detector. Before the store weighed size, the users kept 1 to 3 of
// 20 sessions in each case.
func TestDemoFlood(t *testing.T) {
	for _, fc := range []floodCase{
		{name: "one-address", addrs: 1},
		{name: "50-addresses", addrs: 50},
		{name: "one-address/revisit", addrs: 1, maxBytes: 16 << 20, revisit: 50},
	} {
		t.Run(fc.name, func(t *testing.T) {
			if fc.addrs > 1 && runtime.GOOS != "linux" {
				t.Skip("only Linux routes all of 127.0.0.0/8 to the loopback interface")
			}
			store := memory.New(memory.Options{MaxBytes: fc.maxBytes})
			defer store.Close()
			base := startDemo(t, "nethttp", store)
			var stats floodStats
			users := loginFloodUsers(t, base, &stats)
			start := time.Now()
			revisits := make(chan struct{}, 1)
			var visits sync.WaitGroup
			if fc.revisit > 0 {
				visits.Go(func() {
					for range revisits {
						for _, u := range users {
							_, _ = u.has(&stats) // counted at the end
						}
					}
				})
			}
			flood(t, base, fc, &stats, revisits)
			close(revisits)
			visits.Wait()
			seconds := time.Since(start).Seconds()
			kept := 0
			for _, u := range users {
				ok, err := u.has(&stats)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					kept++
				}
			}
			t.Logf("%d of %d users kept; %d requests, %.1f MB of bodies sent (%d flood requests refused) in %.1f s; store holds %.1f MB",
				kept, floodUsers, stats.requests.Load(), float64(stats.bytes.Load())/1e6, stats.refused.Load(), seconds, float64(store.Bytes())/1e6)
			if kept != floodUsers {
				t.Errorf("%d of %d users kept their session", kept, floodUsers)
			}
		})
	}
}

// floodUser is a logged in user's browser.
type floodUser struct {
	name string
	c    *client
}

// loginFloodUsers logs users u0, u1, … in and has each read their session
// once.
func loginFloodUsers(t *testing.T, base string, stats *floodStats) []floodUser {
	t.Helper()
	users := make([]floodUser, floodUsers)
	for i := range users {
		u := floodUser{name: fmt.Sprint("u", i), c: newClient(t, base)}
		body := `{"user":"` + u.name + `"}`
		u.c.do("POST", "/api/login", body, 204)
		stats.requests.Add(1)
		stats.bytes.Add(int64(len(body)))
		if ok, err := u.has(stats); err != nil || !ok {
			t.Fatalf("%s right after login: logged in %v, %v", u.name, ok, err)
		}
		users[i] = u
	}
	return users
}

// has reads the user's session and reports whether it still names them.
// It may run on any goroutine.
func (u floodUser) has(stats *floodStats) (bool, error) {
	stats.requests.Add(1)
	res, err := u.c.http.Get(u.c.base + "/api/session")
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("%s: GET /api/session = %d %q", u.name, res.StatusCode, b)
	}
	return strings.Contains(string(b), `"user":"`+u.name+`"`), err
}

// flood sends the flood's sessions from fc.addrs client addresses,
// floodWorkers at a time, each from a client of its own that keeps its
// cookie, and signals a visit of the users every fc.revisit sessions.
func flood(t *testing.T, base string, fc floodCase, stats *floodStats, revisits chan<- struct{}) {
	t.Helper()
	transports := make([]*http.Transport, fc.addrs)
	for i := range transports {
		ip := net.IPv4(127, 0, 0, 1)
		if fc.addrs > 1 {
			ip = net.IPv4(127, 0, 0, byte(2+i))
		}
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
		transports[i] = &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: floodWorkers}
		t.Cleanup(transports[i].CloseIdleConnections)
	}
	var done atomic.Int64
	backendtest.Parallel(t, floodWorkers, func(w int) error {
		for i := w; i < floodSessions; i += floodWorkers {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Transport: transports[i%fc.addrs], Jar: jar, Timeout: 30 * time.Second}
			if err := floodSession(c, base, stats); err != nil {
				return fmt.Errorf("flood session %d: %w", i, err)
			}
			if n := done.Add(1); fc.revisit > 0 && n%int64(fc.revisit) == 0 {
				select {
				case revisits <- struct{}{}:
				default: // the users are visiting already
				}
			}
		}
		return nil
	})
}

// floodSession sends one flood session's PUTs. A refusal (429, or 503 for
// a store that cannot take the session) is counted, not an error: what
// the flood is allowed to store is the server's to decide.
func floodSession(c *http.Client, base string, stats *floodStats) error {
	for k := 1; k <= floodWrites; k++ {
		req, err := http.NewRequest("PUT", fmt.Sprint(base, "/api/session/k", k), strings.NewReader(floodValue))
		if err != nil {
			return err
		}
		stats.requests.Add(1)
		stats.bytes.Add(int64(len(floodValue)))
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusNoContent:
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			stats.refused.Add(1)
		default:
			return fmt.Errorf("PUT k%d = %d %q", k, res.StatusCode, b)
		}
	}
	return nil
}

// TestDemoFloodOfNewSessions: the demo's budget of new sessions per client
// (the command line's default, 120 a minute) stops one client's flood of
// sessions that are written once and never read, which the store alone
// cannot tell from users who have just logged in: 20 users log in from
// addresses of their own while the flood runs, into a store of 1,600 keys
// that the flood's 2,000 would fill, and all keep their session.
func TestDemoFloodOfNewSessions(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux routes all of 127.0.0.0/8 to the loopback interface")
	}
	store := memory.New(memory.Options{MaxEntries: 1600})
	defer store.Close()
	base := serveDemo(t, demo.Config{Framework: "nethttp", NewSessionsPerClient: 120}, store)
	var refused, stored atomic.Int64
	users := make([]floodUser, floodUsers)
	var logins sync.WaitGroup
	logins.Go(func() {
		for i := range users {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(100+i))}}
			jar, _ := cookiejar.New(nil)
			c := &client{t: t, base: base, http: &http.Client{Jar: jar, Transport: &http.Transport{DialContext: d.DialContext}}}
			users[i] = floodUser{name: fmt.Sprint("u", i), c: c}
			req, _ := http.NewRequest("POST", base+"/api/login", strings.NewReader(`{"user":"`+users[i].name+`"}`))
			if res, err := c.http.Do(req); err == nil {
				res.Body.Close()
			}
			time.Sleep(5 * time.Millisecond) // spread over the flood
		}
	})
	backendtest.Parallel(t, floodWorkers, func(w int) error {
		for i := w; i < 2000; i += floodWorkers {
			req, _ := http.NewRequest("PUT", base+"/api/session/k", strings.NewReader(`"v"`))
			res, err := http.DefaultClient.Do(req) // no cookies: a new session each time
			if err != nil {
				return err
			}
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusTooManyRequests:
				refused.Add(1)
			case http.StatusNoContent:
				stored.Add(1)
			default:
				return fmt.Errorf("flood PUT = %d", res.StatusCode)
			}
		}
		return nil
	})
	logins.Wait()
	kept := 0
	var stats floodStats
	for _, u := range users {
		if ok, err := u.has(&stats); err == nil && ok {
			kept++
		}
	}
	t.Logf("%d of %d users kept; the flood stored %d sessions and was refused %d times", kept, floodUsers, stored.Load(), refused.Load())
	if kept != floodUsers || stored.Load() > 120 {
		t.Errorf("%d of %d users kept, %d flood sessions stored; want all users and at most the budget of 120", kept, floodUsers, stored.Load())
	}
}
