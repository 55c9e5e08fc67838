package nethttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visit %d", n+1)
	})
	handler := nethttp.Middleware(m)(mux)

	var cookie *http.Cookie
	for range 2 {
		req := httptest.NewRequest("GET", "/visit", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		cookie = rec.Result().Cookies()[0]
		fmt.Println(rec.Body.String())
	}
	// Output:
	// visit 1
	// visit 2
}

// Two Managers serve one request: the login session and a short-lived one
// for notices, each with its own cookie. Get returns the first's; GetFor
// names the Manager.
func ExampleGetFor() {
	store := memory.New(memory.Options{})
	defer store.Close()
	login := core.NewManager(store)
	notices := core.NewManager(store)
	notices.Cookie.Name, notices.KeyPrefix, notices.Lifetime = "notices", "notices:", 10*time.Minute

	handler := nethttp.Middleware(login)(nethttp.Middleware(notices)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		n, err := nethttp.GetFor(r, notices)
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		s.Set("user", "alice")
		n.Flash("info", "welcome back")
	})))

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, c := range rec.Result().Cookies() {
		fmt.Println(c.Name, c.MaxAge)
	}
	// Output:
	// notices 600
	// session 1209600
}
