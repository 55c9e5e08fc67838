package ginsession_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
)

// commitCases are gin's ways of answering; each must commit the session
// before the status line goes out.
var commitCases = []struct {
	name, method string
	status       int
	respond      func(c *gin.Context)
}{
	{"Status", "GET", 201, func(c *gin.Context) { c.Status(201) }},
	{"Nothing", "GET", 200, func(*gin.Context) {}},
	{"JSON", "GET", 200, func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) }},
	{"String", "GET", 202, func(c *gin.Context) { c.String(202, "ok") }},
	{"RedirectGET", "GET", 302, func(c *gin.Context) { c.Redirect(302, "/next") }},
	{"RedirectPOST", "POST", 303, func(c *gin.Context) { c.Redirect(303, "/next") }},
	{"AbortWithStatus", "GET", 403, func(c *gin.Context) { c.AbortWithStatus(403) }},
	{"AbortWithStatusJSON", "GET", 400, func(c *gin.Context) { c.AbortWithStatusJSON(400, gin.H{"e": 1}) }},
	{"Data", "GET", 200, func(c *gin.Context) { c.Data(200, "text/plain", []byte("ok")) }},
	{"NoContent", "GET", 204, func(c *gin.Context) { c.Status(204); c.Writer.WriteHeaderNow() }},
	{"WriteString", "GET", 200, func(c *gin.Context) { _, _ = c.Writer.WriteString("ok") }},
	{"Flush", "GET", 200, func(c *gin.Context) { c.Writer.Flush() }},
}

func TestCommitPoints(t *testing.T) {
	for _, tc := range commitCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.engine.Handle(tc.method, "/x", setting(t, tc.respond))
			res := f.serve(tc.method, "/x", "")
			if res.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tc.status)
			}
			cookie := f.sessionCookie(res)
			if cookie == "" {
				t.Fatalf("no session cookie sent with the status line; headers %v", res.Header)
			}
			if got := f.value(cookie, "k"); got != "v" {
				t.Errorf("saved value = %q, want v", got)
			}
			if len(f.errors()) > 0 {
				t.Errorf("reported errors: %v", f.errors())
			}
		})
	}
}

// TestChangeAfterStatusIsSaved: c.Status only records the status, so a
// change after it is still saved.
func TestChangeAfterStatusIsSaved(t *testing.T) {
	f := newFixture(t)
	f.engine.GET("/x", func(c *gin.Context) {
		c.Status(201)
		s, _ := ginsession.Get(c)
		s.Set("k", "late but in time")
	})
	res := f.serve("GET", "/x", "")
	if res.StatusCode != 201 {
		t.Errorf("status = %d, want 201", res.StatusCode)
	}
	if got := f.value(f.sessionCookie(res), "k"); got != "late but in time" {
		t.Errorf("saved value = %q", got)
	}
}

func TestLateChangeIsReported(t *testing.T) {
	for name, respond := range map[string]func(*gin.Context){
		"String":          func(c *gin.Context) { c.String(200, "sent") },
		"AbortWithStatus": func(c *gin.Context) { c.AbortWithStatus(204) },
		"WriteHeaderNow":  func(c *gin.Context) { c.Writer.WriteHeaderNow() },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.engine.GET("/x", func(c *gin.Context) {
				s, _ := ginsession.Get(c)
				respond(c)
				s.Set("k", "too late")
			})
			f.serve("GET", "/x", "")
			if !slices.ContainsFunc(f.errors(), func(err error) bool { return errors.Is(err, core.ErrLateChange) }) {
				t.Errorf("reported %v, want core.ErrLateChange", f.errors())
			}
		})
	}
}

// TestFailedSave: the handler's response is replaced by a 503 (the backend
// failed) whatever way
// it answers, and its body is dropped.
func TestFailedSave(t *testing.T) {
	for _, tc := range commitCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.store.FailWrites(errDown)
			var writeErr error
			f.engine.Handle(tc.method, "/x", setting(t, func(c *gin.Context) {
				tc.respond(c)
				_, writeErr = c.Writer.Write([]byte("after"))
			}))
			res := f.serve(tc.method, "/x", "")
			if got := body(t, res); res.StatusCode != 503 || got != "session could not be saved\n" {
				t.Errorf("response = %d %q, want 503 and only the error", res.StatusCode, got)
			}
			if sc := res.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("Set-Cookie = %q after a failed save", sc)
			}
			if writeErr == nil {
				t.Error("a write after the failed save did not fail")
			}
			if !slices.ContainsFunc(f.errors(), func(err error) bool { return errors.Is(err, errDown) }) {
				t.Errorf("reported %v, want the backend's error", f.errors())
			}
		})
	}
}

func TestNoMiddleware(t *testing.T) {
	r := gin.New()
	var err error
	r.GET("/x", func(c *gin.Context) { _, err = ginsession.Get(c) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if !errors.Is(err, core.ErrNoSession) {
		t.Errorf("Get without the middleware: %v, want core.ErrNoSession", err)
	}
	if _, err := ginsession.Get(nil); !errors.Is(err, core.ErrNoSession) {
		t.Errorf("Get(nil): %v, want core.ErrNoSession", err)
	}
}

func TestStaticPassesThrough(t *testing.T) {
	f := newFixture(t)
	var err error
	var writer string
	f.engine.GET("/static/*file", func(c *gin.Context) {
		_, err = ginsession.Get(c)
		writer = fmt.Sprintf("%T", c.Writer)
		c.String(200, "css")
	})
	res := f.serve("GET", "/static/app.css", "")
	if !errors.Is(err, core.ErrNoSession) {
		t.Errorf("Get on a static request: %v, want core.ErrNoSession", err)
	}
	if writer != "*gin.responseWriter" {
		t.Errorf("a static request's writer is a %s, want gin's own", writer)
	}
	if len(res.Header.Values("Set-Cookie")) > 0 || len(res.Header.Values("Vary")) > 0 {
		t.Errorf("static response headers %v", res.Header)
	}
}

// TestPanicSavesNothing: with gin.Recovery before the middleware, a handler
// that panics gets Recovery's 500 and its session change is not saved.
func TestPanicSavesNothing(t *testing.T) {
	f := newFixture(t, gin.RecoveryWithWriter(io.Discard))
	f.engine.GET("/x", setting(t, func(*gin.Context) { panic("boom") }))
	res := f.serve("GET", "/x", "")
	if res.StatusCode != 500 {
		t.Errorf("status = %d, want Recovery's 500", res.StatusCode)
	}
	if len(res.Header.Values("Set-Cookie")) > 0 || f.store.Store().Len() != 0 {
		t.Errorf("session saved for a handler that panicked: %v", res.Header)
	}
}

// TestNoRouteHandler: gin's NoRoute handlers run after the global
// middleware, so they have sessions too.
func TestNoRouteHandler(t *testing.T) {
	f := newFixture(t)
	f.engine.NoRoute(setting(t, func(*gin.Context) {}))
	res := f.serve("GET", "/nowhere", "")
	if res.StatusCode != 404 || f.sessionCookie(res) == "" {
		t.Errorf("NoRoute response = %d %v, want 404 with a session cookie", res.StatusCode, res.Header)
	}
}

// TestHijack: the session is saved before the connection is handed over.
func TestHijack(t *testing.T) {
	f := newFixture(t)
	f.engine.GET("/ws", setting(t, func(c *gin.Context) {
		conn, rw, err := c.Writer.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		_ = rw.Flush()
	}))
	srv := httptest.NewServer(f.engine)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, res); got != "ok" {
		t.Errorf("hijacked response body = %q", got)
	}
	if f.store.Store().Len() != 1 {
		t.Errorf("store holds %d sessions after the hijack, want 1", f.store.Store().Len())
	}
}

// TestStreamingOverNetwork: a streamed response carries the cookie in its
// headers, before the first chunk. c.Stream needs CloseNotify, which the
// wrapper passes through (httptest.ResponseRecorder lacks it, hence the
// real server).
func TestStreamingOverNetwork(t *testing.T) {
	f := newFixture(t)
	f.engine.GET("/events", setting(t, func(c *gin.Context) {
		i := 0
		c.Stream(func(io.Writer) bool {
			c.SSEvent("n", i)
			i++
			return i < 3
		})
	}))
	srv := httptest.NewServer(f.engine)
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, res); !strings.Contains(got, "data:2") {
		t.Errorf("stream = %q", got)
	}
	if cookie := f.sessionCookie(res); cookie == "" || f.value(cookie, "k") != "v" {
		t.Errorf("streamed response: cookie %q, want a saved session", cookie)
	}
}

func TestNilManagerPanics(t *testing.T) {
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, core.ErrNilManager) {
			t.Errorf("Middleware(nil) panicked with %v, want core.ErrNilManager", err)
		}
	}()
	ginsession.Middleware(nil)
	t.Error("Middleware(nil) did not panic")
}
