package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// Harness serves the suite's application through the adapter under test,
// with one session middleware per Manager of ms, installed in order (ms[0]
// outermost, after the middleware that applies Mark), on a loopback server
// that it stops when t ends. It returns the server's base URL, such as
// "http://127.0.0.1:41234".
type Harness func(t *testing.T, ms ...*core.Manager) (baseURL string)

// env is one test's server, backend and reported errors.
type env struct {
	t       *testing.T
	url     string
	m       *core.Manager   // the first of ms
	ms      []*core.Manager // what the Harness serves
	backend *backendtest.Recorder

	mu       sync.Mutex
	reported []error
}

// setup configures the Managers of a test before the first request; it
// returns those the Harness serves, in order. The default serves one.
type setup func(m *core.Manager) []*core.Manager

// start serves the suite's app with a Manager that setup, when not nil,
// configures before the first request.
func start(t *testing.T, h Harness, setup setup) *env {
	e := &env{t: t, backend: backendtest.NewRecorder(t)}
	e.backend.ContextCheck = marked
	e.m = core.NewManager(e.backend)
	e.ms = []*core.Manager{e.m}
	if setup != nil {
		e.ms = setup(e.m)
		e.m = e.ms[0]
	}
	for _, m := range e.ms {
		m.ErrorHandler = e.report
	}
	e.url = h(t, e.ms...)
	return e
}

func (e *env) report(_ context.Context, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reported = append(e.reported, err)
}

// also configures a test's one Manager.
func also(configure func(*core.Manager)) setup {
	return func(m *core.Manager) []*core.Manager {
		configure(m)
		return []*core.Manager{m}
	}
}

// via is a setup that gives the Manager transport t.
func via(t core.Transport) setup {
	return also(func(m *core.Manager) { m.Transport = t })
}

// response is what a request got back.
type response struct {
	status int
	body   string
	header http.Header
}

// get requests path with the session cookie value (none when empty).
func (e *env) get(path, cookie string) response {
	e.t.Helper()
	r, err := e.fetch(path, cookie)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// fetch is get for goroutines other than the test's.
func (e *env) fetch(path, cookie string) (response, error) {
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", (&http.Cookie{Name: e.m.Cookie.Name, Value: cookie}).String())
	}
	return e.fetchWith(path, h)
}

// fetchWith requests path with the request headers h.
func (e *env) fetchWith(path string, h http.Header) (response, error) {
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		return response{}, err
	}
	req.Header = h
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("GET %s: reading body: %w", path, err)
	}
	return response{status: res.StatusCode, body: string(body), header: res.Header}, nil
}

// cookie returns the session cookie the response sets, or nil.
func (r response) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// varies reports whether the response varies on the Cookie header.
func (r response) varies() bool { return r.variesOn("Cookie") }

// variesOn reports whether the response's Vary names header, once.
func (r response) variesOn(header string) bool {
	n := 0
	for _, v := range r.header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), header) {
				n++
			}
		}
	}
	return n == 1
}

// login sets k=v in a new session and returns the session cookie's value.
func (e *env) login(k, v string) string {
	e.t.Helper()
	r := e.get("/set?k="+k+"&v="+v, "")
	c := r.cookie(e.m.Cookie.Name)
	if r.status != 200 || c == nil || c.Value == "" {
		e.t.Fatalf("/set: status %d, cookie %v; want 200 and a session cookie", r.status, c)
	}
	e.backend.Calls()
	return c.Value
}

func (e *env) wantCalls(want ...string) {
	e.t.Helper()
	var got []string
	for _, call := range e.backend.Calls() {
		op, _, _ := strings.Cut(call, " ")
		got = append(got, op)
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("backend calls = %q, want %q", got, want)
	}
}

func (e *env) errors() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.reported)
}

func wantNoCookie(t *testing.T, r response) {
	t.Helper()
	if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("Set-Cookie = %q, want none", sc)
	}
}

func wantExpired(t *testing.T, r response, name string) {
	t.Helper()
	c := r.cookie(name)
	if c == nil || c.MaxAge >= 0 || !c.Expires.Before(time.Now()) {
		t.Errorf("Set-Cookie = %q, want %s expired (Max-Age=0 and an Expires in the past)", r.header.Values("Set-Cookie"), name)
	}
}

// Run checks that the adapter served by h follows every lifecycle rule that
// depends on an adapter.
func Run(t *testing.T, h Harness) {
	for _, tc := range []struct {
		name  string
		run   func(t *testing.T, e *env)
		setup setup
	}{
		{name: "UntouchedRequestCostsNothing", run: testUntouched},
		{name: "StaticRequestHasNoSession", run: testStatic},
		{name: "ReadWithoutCookieCostsNothing", run: testNoCookie},
		{name: "NewSessionIsSavedBeforeResponse", run: testNewSession},
		{name: "CookieAttributes", run: testCookieAttributes},
		{name: "ReadIsOneBackendCall", run: testRead},
		{name: "CommitPaths", run: testCommitPaths},
		{name: "UnknownIDIsNotAdopted", run: testUnknownID},
		{name: "MalformedCookieIsNotLookedUp", run: testMalformed},
		{name: "ClearDeletes", run: testDeletes("/clear")},
		{name: "DestroyDeletes", run: testDeletes("/destroy")},
		{name: "RegenerateMovesData", run: testRegenerate},
		{name: "LateChangeIsNotLost", run: testLateChange},
		{name: "PanicSavesNothing", run: testPanic},
		{name: "FailedLoadSavesNothing", run: testFailedLoad},
		{name: "FailedSaveIsAnError", run: testFailedSave},
		{name: "CorruptDataIsDiscarded", run: testCorrupt},
		{name: "CorruptDataIsAnErrorWhenStrict", run: testCorruptStrict, setup: also(func(m *core.Manager) { m.StrictDecode = true })},
		{name: "RequestContextReachesBackend", run: testContext},
		{name: "ConcurrentSessions", run: testConcurrent},
		{name: "ConcurrentIncrementsAllCount", run: testConcurrentIncrements},
		{name: "ConcurrentKeysAllSurvive", run: testConcurrentKeys},
		{name: "LogoutWhileWritingRevivesNothing", run: testEndWhileWriting("/destroy")},
		{name: "LoginWhileWritingRevivesNothing", run: testEndWhileWriting("/regenerate")},
		{name: "HeaderTransport", run: testHeader, setup: via(core.HeaderTransport(""))},
		{name: "HeaderTransportIsValidatedBeforeIO", run: testHeaderMalformed, setup: via(core.HeaderTransport(""))},
		{name: "HeaderTransportSigned", run: testHeaderSigned, setup: also(signed(core.HeaderTransport("X-Auth")))},
		{name: "BearerTransport", run: testBearer, setup: via(core.BearerTransport())},
		{name: "ChainTransport", run: testChain, setup: via(core.ChainTransport(core.CookieTransport(), core.BearerTransport()))},
		{name: "SeveralManagers", run: testSeveral, setup: several},
		{name: "SameManagerTwice", run: testSameTwice, setup: func(m *core.Manager) []*core.Manager { return []*core.Manager{m, m} }},
		{name: "DuplicateCookiesAreRefused", run: testDuplicateCookies},
		{name: "ManagersThatShareSessionsFail", run: testOverlapping, setup: overlapping},
		{name: "CookieIdleTimeout", run: testCookieIdle, setup: cookieSessions(time.Minute)},
		{name: "WeakSecretIsRefused", run: testWeakSecret(h)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, start(t, h, tc.setup))
		})
	}
}

func testUntouched(t *testing.T, e *env) {
	r := e.get("/healthz", "")
	if r.status != 200 || r.body != "ok" {
		t.Fatalf("/healthz = %d %q", r.status, r.body)
	}
	wantNoCookie(t, r)
	if r.varies() {
		t.Error("a request that never asked for its session got Vary: Cookie")
	}
	e.wantCalls()
}

func testStatic(t *testing.T, e *env) {
	cookie := e.login("k", "v")
	r := e.get("/static/app.css", cookie)
	if r.body != "no session" {
		t.Errorf("/static/app.css body = %q, want the handler to get core.ErrNoSession", r.body)
	}
	wantNoCookie(t, r)
	e.wantCalls()
}

func testNoCookie(t *testing.T, e *env) {
	r := e.get("/get?k=a", "")
	if r.status != 200 || r.body != "" {
		t.Fatalf("/get = %d %q", r.status, r.body)
	}
	wantNoCookie(t, r)
	if !r.varies() {
		t.Error("a response whose session was accessed lacks Vary: Cookie")
	}
	e.wantCalls()
}

func testNewSession(t *testing.T, e *env) {
	r := e.get("/set?k=a&v=1", "")
	c := r.cookie(e.m.Cookie.Name)
	if c == nil {
		t.Fatalf("no session cookie: Set-Cookie = %q", r.header.Values("Set-Cookie"))
	}
	e.wantCalls("set")
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Errorf("a response setting the session cookie has Cache-Control %q, want it private", cc)
	}
	if got := e.get("/get?k=a", c.Value); got.body != "1" {
		t.Errorf("/get after /set = %q, want 1", got.body)
	}
}

func testCookieAttributes(t *testing.T, e *env) {
	r := e.get("/set?k=a&v=1", "")
	c := r.cookie(e.m.Cookie.Name)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie %q: want HttpOnly, SameSite=Lax, Path=/ and not Secure by default", c.Raw)
	}
	wantMaxAge := int(e.m.Lifetime / time.Second)
	if c.MaxAge < wantMaxAge-5 || c.MaxAge > wantMaxAge {
		t.Errorf("cookie Max-Age = %d, want %d for a permanent session", c.MaxAge, wantMaxAge)
	}
	if d := time.Until(c.Expires) - e.m.Lifetime; d > 5*time.Second || d < -5*time.Second {
		t.Errorf("cookie Expires = %v, want about now + %v", c.Expires, e.m.Lifetime)
	}
	if !r.varies() {
		t.Error("missing Vary: Cookie")
	}
}

func testRead(t *testing.T, e *env) {
	cookie := e.login("a", "1")
	for range 3 {
		r := e.get("/get?k=a", cookie)
		if r.body != "1" {
			t.Fatalf("/get = %q, want 1", r.body)
		}
		wantNoCookie(t, r)
		if !r.varies() {
			t.Error("missing Vary: Cookie")
		}
		if cc := r.header.Get("Cache-Control"); cc != "private" {
			t.Errorf("a response made with a stored session has Cache-Control %q, want private", cc)
		}
		e.wantCalls("get") // the handler asks twice; one load
	}
}

func testCommitPaths(t *testing.T, e *env) {
	for _, route := range []string{"/set-created", "/set-implicit", "/set-silent"} {
		r := e.get(route+"?k=a&v=1", "")
		c := r.cookie(e.m.Cookie.Name)
		if c == nil {
			t.Errorf("%s: no session cookie in the response (status %d)", route, r.status)
			continue
		}
		if got := e.get("/get?k=a", c.Value); got.body != "1" {
			t.Errorf("%s: value not saved: /get = %q", route, got.body)
		}
	}
	if r := e.get("/set-created?k=a&v=1", ""); r.status != 201 {
		t.Errorf("/set-created status = %d, want the handler's 201", r.status)
	}
}

func testUnknownID(t *testing.T, e *env) {
	forged := core.RandomID{}.NewID()
	r := e.get("/set?k=a&v=1", forged)
	c := r.cookie(e.m.Cookie.Name)
	if c == nil || c.Value == forged || c.Value == "" {
		t.Fatalf("cookie after a forged id = %v, want a fresh id", c)
	}
	e.backend.Calls()
	// A read with an unknown id creates nothing and tells the browser to
	// drop the cookie.
	r = e.get("/get?k=a", core.RandomID{}.NewID())
	wantExpired(t, r, e.m.Cookie.Name)
	e.wantCalls("get")
}

func testMalformed(t *testing.T, e *env) {
	for _, bad := range []string{"short", "../../../etc/passwd", strings.Repeat("A", 4000), core.RandomID{}.NewID() + "x"} {
		r := e.get("/get?k=a", bad)
		if r.status != 200 {
			t.Errorf("malformed cookie %.20q: status %d", bad, r.status)
		}
		e.wantCalls()
	}
}

// testDeletes: a route that empties the session deletes it and expires its
// cookie.
func testDeletes(route string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		cookie := e.login("a", "1")
		r := e.get(route, cookie)
		wantExpired(t, r, e.m.Cookie.Name)
		e.wantCalls("get", "delete")
		if r := e.get("/get?k=a", cookie); r.body != "" {
			t.Errorf("session still readable after %s: %q", route, r.body)
		}
	}
}

func testRegenerate(t *testing.T, e *env) {
	cookie := e.login("a", "1")
	r := e.get("/regenerate", cookie)
	c := r.cookie(e.m.Cookie.Name)
	if c == nil || c.Value == cookie {
		t.Fatalf("cookie after Regenerate = %v, want a new id", c)
	}
	e.wantCalls("get", "delete", "set") // the old id first: see core.Manager on concurrent requests
	if r := e.get("/get?k=a", c.Value); r.body != "1" {
		t.Errorf("data under the new id = %q, want 1", r.body)
	}
	if r := e.get("/get?k=a", cookie); r.body != "" {
		t.Errorf("old id still readable after Regenerate: %q", r.body)
	}
}

// testLateChange: a change after the response is committed must be saved
// (frameworks that buffer commit after the handler) or reported.
func testLateChange(t *testing.T, e *env) {
	cookie := e.login("a", "1")
	r := e.get("/late?k=a&v=2", cookie)
	if r.body != "written first" {
		t.Fatalf("/late = %q", r.body)
	}
	saved := e.get("/get?k=a", cookie).body == "2"
	reported := slices.ContainsFunc(e.errors(), func(err error) bool { return errors.Is(err, core.ErrLateChange) })
	if !saved && !reported {
		t.Error("a change made after the response was written was neither saved nor reported")
	}
}

// testPanic: a handler that panics before its response went out saves
// nothing, as a transaction rolls back, whoever turns the panic into a
// response (the framework's recover middleware, or net/http, which drops
// the connection). Its half-made changes could break what the application
// keeps true between keys.
func testPanic(t *testing.T, e *env) {
	cookie := e.login("a", "1")
	if r, err := e.fetch("/panic?k=a&v=2", cookie); err == nil {
		if r.status < 500 {
			t.Errorf("/panic = %d %q, want a server error", r.status, r.body)
		}
		wantNoCookie(t, r)
	}
	e.wantReadsOnly() // net/http's client retries a GET whose connection the server dropped
	if r := e.get("/get?k=a", cookie); r.body != "1" {
		t.Errorf("after a panic /get = %q, want 1: the change was saved", r.body)
	}
	e.backend.Calls()
	if r, err := e.fetch("/panic?k=a&v=2", ""); err == nil {
		wantNoCookie(t, r)
	}
	e.wantCalls()
}

// wantReadsOnly fails if the backend got anything but reads.
func (e *env) wantReadsOnly() {
	e.t.Helper()
	for _, call := range e.backend.Calls() {
		if op, _, _ := strings.Cut(call, " "); op != "get" {
			e.t.Errorf("backend call %q, want reads only", op)
		}
	}
}

func testFailedLoad(t *testing.T, e *env) {
	cookie := e.login("a", "1")
	e.backend.FailReads(errInjected)
	r := e.get("/set?k=a&v=2", cookie)
	if r.status != 503 || !strings.Contains(r.body, errInjected.Error()) {
		t.Errorf("/set with a failing backend = %d %q, want the handler to see the load error", r.status, r.body)
	}
	e.wantCalls("get")
	wantNoCookie(t, r)
	e.backend.FailReads(nil)
	if r := e.get("/get?k=a", cookie); r.body != "1" {
		t.Errorf("stored data after a failed load = %q, want 1 untouched", r.body)
	}
}

func testFailedSave(t *testing.T, e *env) {
	e.backend.FailWrites(errInjected)
	r := e.get("/set?k=a&v=1", "")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("/set whose save failed = %d %q, want 503: the backend failed", r.status, r.body)
	}
	wantNoCookie(t, r)
	if !slices.ContainsFunc(e.errors(), func(err error) bool { return errors.Is(err, errInjected) }) {
		t.Errorf("failed save not reported to the ErrorHandler; reported %v", e.errors())
	}
}

// corrupt logs in and then overwrites every stored session with bytes the
// codec cannot read.
func (e *env) corrupt() string {
	cookie := e.login("a", "1")
	store := e.backend.Store()
	for key, err := range store.Keys(context.Background(), "") {
		if err != nil {
			e.t.Fatal(err)
		}
		_ = store.Set(context.Background(), key, []byte("{not json"), time.Hour)
	}
	return cookie
}

// testCorrupt: by default corrupt data is reported and treated as absent,
// so that it never locks its user out.
func testCorrupt(t *testing.T, e *env) {
	cookie := e.corrupt()
	r := e.get("/set?k=a&v=2", cookie)
	c := r.cookie(e.m.Cookie.Name)
	if r.status != 200 || c == nil || c.Value == cookie {
		t.Fatalf("/set over corrupt data = %d with cookie %v, want a new session", r.status, c)
	}
	if !slices.ContainsFunc(e.errors(), func(err error) bool { return errors.Is(err, core.ErrCorrupt) }) {
		t.Errorf("corrupt data not reported; reported %v", e.errors())
	}
	if _, err := e.backend.Store().Get(context.Background(), e.m.KeyPrefix+cookie); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the corrupt session is still stored: %v", err)
	}
}

// testCorruptStrict: with StrictDecode the handler sees the error and the
// stored data is left alone.
func testCorruptStrict(t *testing.T, e *env) {
	cookie := e.corrupt()
	r := e.get("/set?k=a&v=2", cookie)
	if r.status != 500 || !strings.Contains(r.body, "corrupt") {
		t.Errorf("/set over corrupt data = %d %q, want the handler to see core.ErrCorrupt", r.status, r.body)
	}
	wantNoCookie(t, r)
	e.wantCalls("get")
}

func testContext(t *testing.T, e *env) {
	cookie := e.login("a", "1")
	e.get("/set?k=a&v=2", cookie)
	e.get("/clear", cookie)
	if n := e.backend.Unchecked(); n > 0 {
		t.Errorf("%d backend calls did not get the request's context", n)
	}
}

func testConcurrent(t *testing.T, e *env) {
	const clients = 8
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cookie := ""
			for n := 1; n <= 5; n++ {
				r, err := e.fetch("/incr", cookie)
				if err != nil {
					t.Error(err)
					return
				}
				if c := r.cookie(e.m.Cookie.Name); c != nil {
					cookie = c.Value
				}
				if r.body != string(rune('0'+n)) {
					t.Errorf("client %d: /incr #%d = %q", i, n, r.body)
					return
				}
			}
		}()
	}
	wg.Wait()
}
