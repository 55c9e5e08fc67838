package memcached

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// The load of TestServerKilled: visitors, each with a session holding a
// counter, shared out among workers that send their requests in turn.
const (
	killVisitors = 100
	killWorkers  = 4
	killBefore   = 300 * time.Millisecond // of load before the kill
	killAfter    = 2 * time.Second        // of load after it
)

// TestServerKilled starts two memcached processes, opens a Store over both,
// and has 100 visitors, each with a session holding a counter, send
// requests through the nethttp adapter while one of the servers is killed
// (SIGKILL). With default Options, sessions on the survivor must keep
// their counters, without an error or a lost increment; sessions on the
// killed server must come back as new sessions (Reason Expired), not as
// errors, and then count again from 1 on the survivor. Only requests in
// flight at the kill may fail. With DeadTimeout negative (gomemcache's own
// selection) the sessions of the killed server fail instead. It prints the
// figures the README quotes: errors, longest outage, sessions lost. It is
// not parallel: it measures outages.
func TestServerKilled(t *testing.T) {
	t.Run("failover", func(t *testing.T) {
		r := runKill(t, Options{})
		t.Logf("memcached, 2 servers, one killed, default Options: %s", r)
		if r.errorsAfter > 0 || r.errorsInFlight > killWorkers {
			t.Errorf("%d requests sent after the kill failed, want none; %d in flight at the kill, want at most %d",
				r.errorsAfter, r.errorsInFlight, killWorkers)
		}
		if r.survivorsLost > 0 || r.wrongCounts > 0 {
			t.Errorf("%d sessions of the survivor became new, %d answers had a wrong count; want none",
				r.survivorsLost, r.wrongCounts)
		}
		if r.renewed != r.onKilled {
			t.Errorf("%d of the %d sessions of the killed server came back as new sessions, want all", r.renewed, r.onKilled)
		}
		if r.outage > time.Second {
			t.Errorf("longest outage %v, want under 1s", r.outage)
		}
	})
	t.Run("no failover", func(t *testing.T) {
		r := runKill(t, Options{DeadTimeout: -1})
		t.Logf("memcached, 2 servers, one killed, DeadTimeout -1: %s", r)
		if r.survivorsLost > 0 || r.wrongCounts > 0 {
			t.Errorf("%d sessions of the survivor became new, %d answers had a wrong count; want none",
				r.survivorsLost, r.wrongCounts)
		}
		if r.renewed > 0 || r.errorsAfter == 0 {
			t.Errorf("%d sessions of the killed server came back new and %d requests failed; want their every request to fail",
				r.renewed, r.errorsAfter)
		}
	})
}

// killRun is what runKill measured.
type killRun struct {
	requests       int           // sent during the load
	errorsInFlight int           // requests begun before the kill that did not answer 200
	errorsAfter    int           // requests begun after it that did not
	outage         time.Duration // the longest a visitor waited for a 200 after the kill
	onKilled       int           // sessions that lived on the killed server
	renewed        int           // of them, answered with a new session after the kill
	survivorsLost  int           // sessions of the survivor that came back new
	wrongCounts    int           // answers whose count neither followed the last one nor restarted a new session
}

func (r *killRun) add(o killRun) {
	r.requests += o.requests
	r.errorsInFlight += o.errorsInFlight
	r.errorsAfter += o.errorsAfter
}

func (r killRun) String() string {
	return fmt.Sprintf("%d requests in %v, errors %d (%d in flight at the kill, %d after), longest outage %v, "+
		"sessions lost %d of %d (%d of the %d on the killed server came back as new sessions, %d of the survivor's), "+
		"wrong counts %d",
		r.requests, killBefore+killAfter, r.errorsInFlight+r.errorsAfter, r.errorsInFlight, r.errorsAfter,
		r.outage.Round(time.Millisecond), r.renewed+r.survivorsLost, killVisitors, r.renewed, r.onKilled,
		r.survivorsLost, r.wrongCounts)
}

// visitor is a browser with its session cookie.
type visitor struct {
	cookie *http.Cookie
	count  int64 // the counter of its last 200 answer
	onDead bool  // its session lived on the killed server

	// After the kill:
	asked     time.Time     // when its first request after the kill started
	waited    time.Duration // from then to its first 200; -1 until then
	renewed   bool          // answered with a new session
	wrongSeen int           // answers whose count did not follow
}

// visit sends one request with v's cookie and takes the answer in: its
// status, the counter and whether the session was new.
func (v *visitor) visit(h http.Handler) (status int, count int64, reason string) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if v.cookie != nil {
		req.AddCookie(v.cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, 0, ""
	}
	for _, c := range res.Cookies() {
		if c.Name == "session" {
			v.cookie = c
		}
	}
	count, _ = strconv.ParseInt(rec.Body.String(), 10, 64)
	return res.StatusCode, count, res.Header.Get("X-Reason")
}

// counter answers each request with its session's counter, incremented.
// A session that cannot be loaded gets the adapter's status for the error
// (503 for a backend failure).
var counter = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	n, err := s.Incr("n", 1)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Reason", s.Reason().String())
	fmt.Fprint(w, n)
})

// runKill starts two servers, opens a Store over both with opts, gives
// each of killVisitors visitors a session through a Manager, finds which
// server holds it, runs the load, kills one server after killBefore and
// keeps the load on for killAfter.
func runKill(t *testing.T, opts Options) killRun {
	t.Helper()
	dead, alive := startOwnServer(t), startOwnServer(t)
	store, err := Open(context.Background(), dead.addr+","+alive.addr, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	m := core.NewManager(store)
	m.ErrorHandler = func(context.Context, error) {} // failed saves are counted by their 503
	h := nethttp.Middleware(m)(counter)
	visitors := make([]*visitor, killVisitors)
	for i := range visitors {
		v := &visitor{waited: -1}
		for want := int64(1); want <= 2; want++ {
			if status, n, _ := v.visit(h); status != http.StatusOK || n != want {
				t.Fatalf("visit %d before the kill: status %d, count %d", want, status, n)
			}
		}
		v.count = 2
		visitors[i] = v
	}
	r := killRun{}
	direct := memcache.New(dead.addr) // one server only: finds what lives there
	for _, v := range visitors {
		_, err := direct.Get("session:" + v.cookie.Value)
		switch {
		case err == nil:
			v.onDead = true
			r.onKilled++
		case !errors.Is(err, memcache.ErrCacheMiss):
			t.Fatalf("Get from %s: %v", dead.addr, err)
		}
	}
	_ = direct.Close()
	if r.onKilled == 0 || r.onKilled == killVisitors {
		t.Fatalf("%d of %d sessions on %s: the test needs both servers used", r.onKilled, killVisitors, dead.addr)
	}

	var (
		mu       sync.Mutex
		killedAt atomic.Int64 // Unix nanoseconds; zero until the kill
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range killWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine killRun
			for {
				for i := w; i < len(visitors); i += killWorkers {
					select {
					case <-stop:
						mu.Lock()
						r.add(mine)
						mu.Unlock()
						return
					default:
					}
					visitAfterKill(visitors[i], h, &killedAt, &mine)
				}
			}
		}()
	}
	time.Sleep(killBefore)
	killedAt.Store(time.Now().UnixNano())
	dead.kill() // SIGKILL by the pid the test started
	time.Sleep(killAfter)
	close(stop)
	wg.Wait()

	for _, v := range visitors {
		switch {
		case v.waited < 0:
			v.waited = time.Since(v.asked) // never answered 200 after the kill
		case v.renewed && !v.onDead:
			r.survivorsLost++
		case v.renewed:
			r.renewed++
		}
		r.outage = max(r.outage, v.waited)
		r.wrongCounts += v.wrongSeen
	}
	return r
}

// visitAfterKill makes one request of v's and checks the answer: a count
// that follows the last one, or, once killed (the Unix time of the kill in
// nanoseconds, zero until then) is set, a new session counting from 1.
// Only requests that start after the kill count towards the outage.
func visitAfterKill(v *visitor, h http.Handler, killed *atomic.Int64, r *killRun) {
	start := time.Now()
	at := killed.Load()
	after := at != 0 && start.UnixNano() > at
	if after && v.asked.IsZero() {
		v.asked = start
	}
	status, n, reason := v.visit(h)
	r.requests++
	switch {
	case status == http.StatusOK:
	case after:
		r.errorsAfter++
		return
	default:
		r.errorsInFlight++ // none fail before the kill
		return
	}
	if after && v.waited < 0 {
		v.waited = time.Since(v.asked)
	}
	switch {
	case n == v.count+1 && reason == core.NotNew.String():
	case n == 1 && reason == core.Expired.String() && killed.Load() != 0: // also in flight at the kill
		v.renewed = true
	default:
		v.wrongSeen++
	}
	v.count = n
}

// TestFailoverList checks the selector of Open's client: while all servers
// are up it picks what gomemcache's ServerList picks; with one down, only
// that server's keys move, spread over the others; once its pause is over,
// calls still avoid it while a probe in the background connects, which
// leaves it down while it refuses and brings it back once it listens.
func TestFailoverList(t *testing.T) {
	back := backendtest.ClosedAddr(t)                           // refuses until the test listens on it
	addrs := []string{back, "127.0.0.1:2", "127.0.0.1:3", back} // the first twice: double weight
	l, err := newFailoverList(addrs, time.Hour, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var plain memcache.ServerList
	if err := plain.SetServers(addrs...); err != nil {
		t.Fatal(err)
	}
	pick := func(s memcache.ServerSelector, key string) string {
		a, err := s.PickServer(key)
		if err != nil {
			t.Fatalf("PickServer(%q): %v", key, err)
		}
		return a.String()
	}
	keys := make([]string, 1000)
	var onBack []string
	for i := range keys {
		keys[i] = fmt.Sprintf("session:%d-%x", i, i*7919)
		if got, want := checksum(keys[i]), crc32.ChecksumIEEE([]byte(keys[i])); got != want {
			t.Fatalf("checksum(%q) = %#x, want %#x", keys[i], got, want)
		}
		home := pick(&plain, keys[i])
		if got := pick(l, keys[i]); got != home {
			t.Fatalf("all up: %q goes to %s, ServerList picks %s", keys[i], got, home)
		}
		if home == back {
			onBack = append(onBack, keys[i])
		}
	}

	down := l.byAddr[back]
	down.downUntil.Store(time.Now().Add(time.Hour).UnixNano())
	moved := map[string]int{}
	for _, k := range keys {
		home, got := pick(&plain, k), pick(l, k)
		switch {
		case home != back && got != home:
			t.Fatalf("%q of %s, which is up, moved to %s", k, home, got)
		case home == back && got == home:
			t.Fatalf("%q stays on %s, which is down", k, home)
		case home == back:
			moved[got]++
		}
	}
	if len(moved) != 2 || min(moved["127.0.0.1:2"], moved["127.0.0.1:3"]) < len(onBack)/4 {
		t.Errorf("the keys of the server that is down went to %v, want them spread over both others", moved)
	}

	// The pause is over, the server still refuses: the probe leaves it down.
	over := time.Now().Add(-time.Second).UnixNano()
	down.downUntil.Store(over)
	for _, k := range onBack {
		if got := pick(l, k); got == back {
			t.Fatalf("%q went to %s while its probe was due", k, got)
		}
	}
	waitFor(t, "the failed probe to push the pause on", func() bool { return down.downUntil.Load() > time.Now().UnixNano() })

	// It listens again: the next probe brings it back.
	ln, err := net.Listen("tcp", back)
	if err != nil {
		t.Skipf("listen on %s again: %v", back, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	down.downUntil.Store(over)
	_ = pick(l, onBack[0]) // starts the probe
	waitFor(t, "the probe to bring the server back", func() bool { return down.downUntil.Load() == 0 })
	if got := pick(l, onBack[0]); got != back {
		t.Errorf("%q goes to %s once its server is back, want %s", onBack[0], got, back)
	}

	for _, h := range l.byAddr {
		h.downUntil.Store(time.Now().Add(time.Hour).UnixNano())
	}
	for _, k := range keys[:10] {
		if got, want := pick(l, k), pick(&plain, k); got != want {
			t.Errorf("all down: %q goes to %s, want its own server %s", k, got, want)
		}
	}
}

// waitFor waits up to 5 seconds for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
	}
}

// TestRefusedConnectMovesKeys: a Store made by Open whose second server is
// gone (its port closed after Open) reads that server's keys as absent on
// the survivor and writes them there, at once and without errors; with
// DeadTimeout negative they fail.
func TestRefusedConnectMovesKeys(t *testing.T) {
	for _, opts := range []Options{{}, {DeadTimeout: -1}} {
		alive, gone := startOwnServer(t), startOwnServer(t)
		s, err := Open(context.Background(), alive.addr+","+gone.addr, opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		gone.kill()
		ctx := context.Background()
		var key string
		for i := 0; key == ""; i++ { // a key whose own server is the one gone
			if k := fmt.Sprint("cloakroomtest:refused:", i); int(checksum(k)%2) == 1 {
				key = k
			}
		}
		_, getErr := s.Get(ctx, key)
		setErr := s.SetIf(ctx, key, nil, []byte("v"), time.Minute)
		if opts.DeadTimeout < 0 {
			if getErr == nil || setErr == nil || errors.Is(getErr, core.ErrNotFound) {
				t.Errorf("DeadTimeout -1: Get = %v, SetIf = %v; want connection errors", getErr, setErr)
			}
		} else {
			if !errors.Is(getErr, core.ErrNotFound) || setErr != nil {
				t.Errorf("Get = %v, SetIf = %v; want ErrNotFound, then stored on the survivor", getErr, setErr)
			}
			if got, err := s.Get(ctx, key); err != nil || string(got) != "v" {
				t.Errorf("Get after SetIf = %q, %v", got, err)
			}
		}
		_ = s.Close()
		alive.kill()
	}
}
