package main

import (
	"net/http"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/core"
)

func netHTTPHandler(a *app, m *core.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.FileServerFS(staticFiles))
	if a.metrics != nil {
		mux.Handle("GET /metrics", a.metrics)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rep := a.serve(r.Context(), request{
			method:  r.Method,
			path:    r.URL.Path,
			body:    r.Body,
			session: func() (*core.Session, error) { return nethttp.Get(r) },
		})
		writeReply(w, rep)
	})
	return nethttp.Middleware(m)(mux)
}

// writeReply writes rep to any net/http-style response, which gin's and
// echo's are too.
func writeReply(w http.ResponseWriter, rep reply) {
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}
