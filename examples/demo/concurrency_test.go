package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// concurrencyCase is one demo configuration the concurrency contract is
// checked on.
type concurrencyCase struct {
	name string
	c    demo.Config
}

// concurrencyCases covers every framework on the default backend and every
// backend, preset and Redis topology on net/http, each against its real
// server.
func concurrencyCases(t *testing.T) []concurrencyCase {
	dir := t.TempDir()
	var cases []concurrencyCase
	for _, fw := range frameworks {
		cases = append(cases, concurrencyCase{fw + "/memory", demo.Config{Framework: fw, Backend: "memory"}})
	}
	for _, c := range []concurrencyCase{
		{"filesystem", demo.Config{Backend: "filesystem", DSN: filepath.Join(dir, "sessions")}},
		{"redis", demo.Config{Backend: "redis"}},
		{"redis-cluster", demo.Config{Backend: "redis", DSN: "redis+cluster://" +
			backendtest.Env("CLOAKROOM_REDIS_CLUSTER_ADDRS", "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003")}},
		{"quart-preset", demo.Config{Backend: "redis", Preset: "quart"}},
		{"memcached", demo.Config{Backend: "memcached"}},
		// A database of the run's own: FerretDB over SQLite slows down as a
		// collection grows. It also answers 50 concurrent clients of one
		// session more slowly than the 1.5 s default bound of a call, and,
		// with a lease per write across two processes under the race
		// detector, than the 2 s default bound of a save's attempts (see
		// TestDemoFailsFast for those bounds).
		{"mongodb", demo.Config{Backend: "mongodb", DSN: "mongodb://127.0.0.1:27017/cloakroom_demo_" + rand.Text()[:8] + "?timeoutMS=10000",
			BackendTimeout: 20 * time.Second}},
		{"postgres", demo.Config{Backend: "postgres"}},
		{"mysql", demo.Config{Backend: "mysql"}},
		{"sqlite", demo.Config{Backend: "sqlite", DSN: filepath.Join(dir, "sessions.sqlite")}},
		{"django", demo.Config{Backend: "django", Secret: "django-insecure-concurrency-test-secret-key-0123456789"}},
	} {
		c.c.Framework = "nethttp"
		cases = append(cases, c)
	}
	return cases
}

// startConfigured serves the demo as its command line c would, opening its
// backend, and skips (or fails under CLOAKROOM_REQUIRE_SERVICES) when the
// backend's server is not running.
func startConfigured(t *testing.T, c demo.Config) string {
	t.Helper()
	base, _ := startWithBackend(t, c)
	return base
}

// startWithBackend is startConfigured for a test that also looks into
// the store the demo uses.
func startWithBackend(t *testing.T, c demo.Config) (string, core.Backend) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	backend, closeBackend, err := demo.OpenBackend(ctx, c, extensions)
	if err != nil {
		backendtest.Unavailable(t, c.Backend, err)
	}
	t.Cleanup(closeBackend)
	if c.Backend == "django" {
		if err := createDjangoTable(ctx, backend); err != nil {
			t.Fatal(err)
		}
	}
	return serveDemo(t, c, backend), backend
}

// TestDemoConcurrency checks that concurrent requests lose nothing: 50 clients
// of one session send 1,000 increments, 50 set a key each, and logins and
// logouts race with writers, on every framework and backend.
func TestDemoConcurrency(t *testing.T) {
	for _, tc := range concurrencyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			base := startConfigured(t, tc.c)
			t.Run("Increments", func(t *testing.T) { testDemoIncrements(t, 50, 20, base) })
			t.Run("Keys", func(t *testing.T) { testDemoKeys(t, base) })
			t.Run("LogoutInFlight", func(t *testing.T) { testDemoEnd(t, "/api/logout", "", base) })
			t.Run("LoginInFlight", func(t *testing.T) { testDemoEnd(t, "/api/login", `{"user":"bob"}`, base) })
		})
	}
}

// TestDemoConcurrencyTwoProcesses runs the same contract with the
// session's requests spread over two demo processes sharing each store:
// 500 increments, each answered with a number no other got, 50 keys, and
// logouts and logins racing with writers.
func TestDemoConcurrencyTwoProcesses(t *testing.T) {
	for _, tc := range concurrencyCases(t) {
		if tc.c.Backend == "memory" {
			continue // one process's memory
		}
		t.Run(tc.name, func(t *testing.T) {
			bases := []string{startConfigured(t, tc.c), startProcess(t, tc.c)}
			t.Run("Increments", func(t *testing.T) { testDemoIncrements(t, 50, 10, bases...) })
			t.Run("Keys", func(t *testing.T) { testDemoKeys(t, bases...) })
			t.Run("LogoutInFlight", func(t *testing.T) { testDemoEnd(t, "/api/logout", "", bases...) })
			t.Run("LoginInFlight", func(t *testing.T) { testDemoEnd(t, "/api/login", `{"user":"bob"}`, bases...) })
		})
	}
}

// shared is an HTTP client that sends one fixed session cookie, as the
// tabs of one browser do, and never stores what the server sets. It sends
// its requests to each of its servers in turn.
type shared struct {
	bases  []string
	next   atomic.Uint32
	cookie *http.Cookie
	http   *http.Client
}

func newShared(t *testing.T, bases ...string) *shared {
	t.Helper()
	base := bases[0]
	c := newClient(t, base)
	c.do("PUT", "/api/session/user", `"alice"`, 204)
	cookies := c.http.Jar.Cookies(mustURL(base))
	if len(cookies) != 1 {
		t.Fatalf("cookies after the first Write: %v, want the session's", cookies)
	}
	cookie := &http.Cookie{Name: cookies[0].Name, Value: cookies[0].Value}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &shared{bases: bases, cookie: cookie, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (s *shared) send(method, path, body string) (int, string, error) {
	base := s.bases[int(s.next.Add(1))%len(s.bases)]
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.AddCookie(s.cookie)
	res, err := s.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// testDemoIncrements sends clients × rounds increments of one session at
// once: every one is kept, and each reply is a number no other got.
func testDemoIncrements(t *testing.T, clients, rounds int, bases ...string) {
	total := clients * rounds
	s := newShared(t, bases...)
	var mu sync.Mutex
	seen := make(map[int]int, total)
	backendtest.Parallel(t, clients, func(int) error {
		for range rounds {
			status, body, err := s.send("POST", "/api/incr/n", "")
			if err == nil && status != 200 {
				err = fmt.Errorf("incr = %d %q", status, body)
			}
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(body)
			if err != nil {
				return fmt.Errorf("incr answered %q", body)
			}
			mu.Lock()
			seen[n]++
			mu.Unlock()
		}
		return nil
	})
	_, body, err := s.send("GET", "/api/session", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := `"n":` + strconv.Itoa(total); !strings.Contains(body, want) {
		t.Fatalf("after %d concurrent increments the session is %s, want %s", total, body, want)
	}
	for n := 1; n <= total; n++ {
		if seen[n] != 1 {
			t.Fatalf("%d increments answered %d %d times; want each of 1 to %d once", total, n, seen[n], total)
		}
	}
	t.Logf("%d of %d increments kept, %d distinct answers, over %d processes", total, total, len(seen), len(bases))
}

func testDemoKeys(t *testing.T, bases ...string) {
	const clients = 50
	s := newShared(t, bases...)
	backendtest.Parallel(t, clients, func(i int) error {
		status, body, err := s.send("PUT", fmt.Sprintf("/api/session/k%02d", i), strconv.Itoa(i))
		if err == nil && status != 204 {
			err = fmt.Errorf("put = %d %q", status, body)
		}
		return err
	})
	_, body, err := s.send("GET", "/api/session", "")
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for i := range clients {
		if strings.Contains(body, fmt.Sprintf(`"k%02d":%d`, i, i)) {
			kept++
		}
	}
	if kept != clients {
		t.Fatalf("%d of %d concurrently set keys kept: %s", kept, clients, body)
	}
}

// testDemoEnd logs out (or in) while writers of the same session are in
// flight, in several trials: afterwards the old cookie must find nothing.
// Writers either succeed or get 409 (the session ended under them).
func testDemoEnd(t *testing.T, route, body string, bases ...string) {
	const trials, writers, rounds = 5, 8, 20
	interrupted := 0
	var mu sync.Mutex
	for range trials {
		s := newShared(t, bases...)
		ended := make(chan error, 1)
		started := make(chan struct{})
		var once sync.Once
		go func() {
			<-started // end the session while the writers are busy
			status, b, err := s.send("POST", route, body)
			if err == nil && status != 204 {
				err = fmt.Errorf("%s = %d %q", route, status, b)
			}
			ended <- err
		}()
		backendtest.Parallel(t, writers, func(i int) error {
			for n := range rounds {
				if n == 2 {
					once.Do(func() { close(started) })
				}
				status, b, err := s.send("PUT", fmt.Sprintf("/api/session/w%d", i), strconv.Itoa(n))
				if err != nil {
					return err
				}
				switch status {
				case 204:
				case 409:
					mu.Lock()
					interrupted++
					mu.Unlock()
				default:
					return fmt.Errorf("writer: %d %q", status, b)
				}
			}
			return nil
		})
		if err := <-ended; err != nil {
			t.Fatal(err)
		}
		// The old id must be gone: reading with it finds no session (and
		// the demo creates none for a read).
		if status, got, err := s.send("GET", "/api/session", ""); err != nil || status != 200 || got != "{}" {
			t.Fatalf("after %s the old cookie reads %d %q (%v): a request in flight revived it", route, status, got, err)
		}
	}
	t.Logf("0 revived in %d trials; %d writes answered 409", trials, interrupted)
}

// createDjangoTable creates django_session where Django's migrations have
// not, as a Django project's first migrate would.
func createDjangoTable(ctx context.Context, b any) error {
	c, ok := b.(interface{ CreateTable(context.Context) error })
	if !ok {
		return errors.New("the django backend cannot create its table")
	}
	return c.CreateTable(ctx)
}
