package demo

import (
	"net/http"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/core"
)

// Handler serves the demo with net/http's ServeMux and cloakroom's
// net/http middleware.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.FileServerFS(staticFiles))
	if a.Metrics != nil {
		mux.Handle("GET /metrics", a.Metrics)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rep := a.Serve(r.Context(), Request{
			Method:  r.Method,
			Path:    r.URL.Path,
			Body:    r.Body,
			Session: func() (*core.Session, error) { return nethttp.Get(r) },
		})
		WriteReply(w, rep)
	})
	return nethttp.Middleware(a.m)(mux)
}

// WriteReply writes rep to any net/http-style response, which gin's and
// echo's are too.
func WriteReply(w http.ResponseWriter, rep Reply) {
	if rep.ContentType != "" {
		w.Header().Set("Content-Type", rep.ContentType)
	}
	w.WriteHeader(rep.Status)
	w.Write(rep.Body)
}
