package nethttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

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
