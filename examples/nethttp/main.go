// Command nethttp is the smallest cloakroom program on net/http: it counts
// each visitor's requests.
package main

import (
	"fmt"
	"log"
	"net/http"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

func main() {
	store := memory.New(memory.Options{})
	defer store.Close()
	sessions := core.NewManager(store)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visit number %d\n", n+1)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nethttp.Middleware(sessions)(mux)))
}
