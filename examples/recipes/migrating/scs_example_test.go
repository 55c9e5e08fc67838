package migrating_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// newSCSApp is an application written for scs, moved to cloakroom: each
// comment names the scs call a line replaces.
func newSCSApp(store core.Backend) http.Handler {
	sessionManager := core.NewManager(store)        // scs.New(), sessionManager.Store = ...
	sessionManager.IdleTimeout = 20 * time.Minute   // sessionManager.IdleTimeout
	sessionManager.AbsoluteTimeout = 24 * time.Hour // sessionManager.Lifetime (counted from creation)
	sessionManager.Cookie.Name = "session_id"       // sessionManager.Cookie.Name

	mux := http.NewServeMux()
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r) // scs passes r.Context() to every call instead
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		s.Set("message", "Hello from a session!") // sessionManager.Put(ctx, "message", ...)
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		msg, _ := s.GetString("message") // sessionManager.GetString(ctx, "message")
		fmt.Fprintf(w, "%q\n", msg)
	})
	mux.HandleFunc("POST /pop", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		msg, _ := s.Pop("message") // sessionManager.PopString(ctx, "message")
		fmt.Fprintf(w, "%v\n", msg)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		s.Regenerate()             // sessionManager.RenewToken(ctx)
		s.Set("userID", int64(42)) // sessionManager.Put(ctx, "userID", 42)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		s.Destroy() // sessionManager.Destroy(ctx)
	})
	return nethttp.Middleware(sessionManager)(mux) // sessionManager.LoadAndSave(mux)
}

// The scs application's requests, answered by cloakroom: the message
// survives a login, which changes the session id, and a pop takes it.
func Example_scs() {
	store := memory.New(memory.Options{})
	defer store.Close()
	handler := newSCSApp(store)

	var cookie *http.Cookie
	for _, step := range []struct{ method, path string }{
		{"POST", "/put"}, {"GET", "/get"}, {"POST", "/login"}, {"POST", "/pop"}, {"GET", "/get"}, {"POST", "/logout"},
	} {
		req := httptest.NewRequest(step.method, step.path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		line := fmt.Sprintf("%s %s: %d", step.method, step.path, rec.Code)
		if body := strings.TrimSpace(rec.Body.String()); body != "" {
			line += " " + body
		}
		for _, c := range rec.Result().Cookies() {
			switch {
			case c.MaxAge < 0:
				line += "; cookie " + c.Name + " dropped"
			case cookie == nil || c.Value != cookie.Value:
				line += "; cookie " + c.Name + " holds a new id"
			}
			cookie = c
		}
		fmt.Println(line)
	}
	// Output:
	// POST /put: 200; cookie session_id holds a new id
	// GET /get: 200 "Hello from a session!"
	// POST /login: 200; cookie session_id holds a new id
	// POST /pop: 200 Hello from a session!
	// GET /get: 200 ""
	// POST /logout: 200; cookie session_id dropped
}
