package bench

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Every library is configured alike: cookie "session", Path=/, HttpOnly,
// SameSite=Lax, a persistent cookie living 14 days (cloakroom's default),
// data kept in process memory. The stored session always holds
// user="alice" and n=1.
const (
	cookieName = "session"
	lifetime   = 14 * 24 * time.Hour
)

// A mode is what the handler does with its session.
type mode int

const (
	none  mode = iota // never asks for its session
	read              // reads the string under "user"
	write             // increments the int under "n" (0 when absent)
	seed              // stores user="alice" and n=1: the session the others use
)

// last is what the latest handler saw, so that the tests can check the
// handlers without the benchmarks paying for a response body.
var last struct {
	user string
	n    int64
}

// A lib is one session library on one framework. start sets up its store
// and returns a function that builds its app for each mode, all apps
// sharing that store. resends is set for a library that saves the session
// and sets its cookie again on every request, asked for or not (Fiber v3's
// middleware), so that the tests expect the same cookie back from a
// request that never asks for its session.
type lib struct {
	name    string
	start   func(tb testing.TB) func(mode) app
	resends bool
}

// An app is one library's server for one mode, called in process.
type app interface {
	// once serves one GET / carrying the session cookie (none when empty)
	// and returns the status and the session cookie set, if any.
	once(tb testing.TB, cookie string) (status int, setCookie string)
	// loop serves the same request b.N times into a discarding response.
	loop(b *testing.B, cookie string)
}

// The four cases, each run for every library. New stores one more session
// per iteration in every library, so its stores grow with b.N.
var cases = []struct {
	name   string
	mode   mode
	cookie bool // the request carries the stored session's cookie
}{
	{"NoSession", none, true},
	{"Read", read, true},
	{"Write", write, true},
	{"New", write, false},
}

// The libraries of each framework are in nethttp_test.go, gin_test.go,
// echo5_test.go, fiber_test.go and fiber3_test.go; go test runs these in
// this order, the net/http frameworks first, then the fasthttp ones.

func BenchmarkNetHTTP(b *testing.B) { benchmark(b, netHTTPLibs) }
func BenchmarkGin(b *testing.B)     { benchmark(b, ginLibs) }
func BenchmarkEcho5(b *testing.B)   { benchmark(b, echo5Libs) }
func BenchmarkFiber(b *testing.B)   { benchmark(b, fiberLibs) }
func BenchmarkFiber3(b *testing.B)  { benchmark(b, fiber3Libs) }

func TestNetHTTP(t *testing.T) { testLibs(t, netHTTPLibs) }
func TestGin(t *testing.T)     { testLibs(t, ginLibs) }
func TestEcho5(t *testing.T)   { testLibs(t, echo5Libs) }
func TestFiber(t *testing.T)   { testLibs(t, fiberLibs) }
func TestFiber3(t *testing.T)  { testLibs(t, fiber3Libs) }

// benchmark runs every case for every library: Benchmark<framework>/<case>/<lib>.
func benchmark(b *testing.B, libs []lib) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for _, l := range libs {
				b.Run(l.name, func(b *testing.B) {
					appFor := l.start(b)
					cookie := seedCookie(b, appFor)
					if !c.cookie {
						cookie = ""
					}
					appFor(c.mode).loop(b, cookie)
				})
			}
		})
	}
}

// seedCookie stores the session every case starts from and returns its cookie.
func seedCookie(tb testing.TB, appFor func(mode) app) string {
	tb.Helper()
	status, cookie := appFor(seed).once(tb, "")
	if status != http.StatusOK || cookie == "" {
		tb.Fatalf("seed: status %d, cookie %q", status, cookie)
	}
	return cookie
}

// testLibs checks that each library's handlers work, so that the
// benchmarks measure working code.
func testLibs(t *testing.T, libs []lib) {
	for _, l := range libs {
		t.Run(l.name, func(t *testing.T) {
			appFor := l.start(t)
			cookie := seedCookie(t, appFor)
			// serve checks the status and follows a new cookie, as a browser
			// would (gorilla's CookieStore keeps the data in it).
			serve := func(m mode, cookie string) string {
				t.Helper()
				status, set := appFor(m).once(t, cookie)
				if status != http.StatusOK {
					t.Fatalf("mode %d: status %d", m, status)
				}
				return set
			}
			switch set := serve(none, cookie); {
			case l.resends && set != cookie:
				t.Errorf("NoSession set cookie %q, want the same session's %q", set, cookie)
			case !l.resends && set != "":
				t.Errorf("NoSession set a cookie: %q", set)
			}
			last.user = ""
			serve(read, cookie)
			if last.user != "alice" {
				t.Errorf("Read saw user %q, want alice", last.user)
			}
			for want := int64(2); want <= 3; want++ {
				if set := serve(write, cookie); set != "" {
					cookie = set
				}
				if last.n != want {
					t.Errorf("Write saw n=%d, want %d", last.n, want)
				}
			}
			last.user = ""
			serve(read, cookie)
			if last.user != "alice" {
				t.Errorf("Read after Write saw user %q, want alice", last.user)
			}
			set := serve(write, "")
			if set == "" || set == cookie {
				t.Errorf("New set cookie %q, want a new session's", set)
			}
			if last.n != 1 {
				t.Errorf("New saw n=%d, want 1", last.n)
			}
		})
	}
}

// httpApp serves a net/http or gin app.
type httpApp struct{ http.Handler }

func (a httpApp) once(tb testing.TB, cookie string) (int, string) {
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, request(cookie))
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.Name == cookieName {
			return res.StatusCode, c.Value
		}
	}
	return res.StatusCode, ""
}

// loop serves a fresh copy of one request each time, as a server makes a
// new request per call: gorilla/sessions (under gin-contrib too) caches
// the session in the request it is given, which would otherwise turn its
// every load after the first into a map lookup.
func (a httpApp) loop(b *testing.B, cookie string) {
	template, req := request(cookie), new(http.Request)
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		*req = *template
		clear(w.header)
		w.status = 0
		a.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

func request(cookie string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	return req
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmarks measure the middleware rather than a recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// fiberApp serves a Fiber app in process: app.Handler() called on a
// fasthttp.RequestCtx that is reset between requests as fasthttp's server
// does, so no network round trip is measured.
type fiberApp struct{ handler fasthttp.RequestHandler }

var clientAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func (a fiberApp) ctx(cookie string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.SetRequestURI("/")
	if cookie != "" {
		req.Header.SetCookie(cookieName, cookie)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, clientAddr, nil)
	return ctx
}

func (a fiberApp) once(tb testing.TB, cookie string) (int, string) {
	ctx := a.ctx(cookie)
	a.handler(ctx)
	var c fasthttp.Cookie
	c.SetKey(cookieName)
	if !ctx.Response.Header.Cookie(&c) {
		return ctx.Response.StatusCode(), ""
	}
	return ctx.Response.StatusCode(), string(c.Value())
}

func (a fiberApp) loop(b *testing.B, cookie string) {
	ctx := a.ctx(cookie)
	b.ReportAllocs()
	for b.Loop() {
		a.handler(ctx)
		if code := ctx.Response.StatusCode(); code != http.StatusOK {
			b.Fatalf("status %d: %s", code, ctx.Response.Body())
		}
		ctx.Response.Reset()
		ctx.ResetUserValues()
	}
}
