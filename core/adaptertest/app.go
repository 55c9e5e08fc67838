// Package adaptertest is the conformance suite every cloakroom adapter
// passes. An adapter's test serves the suite's application through the
// adapter on a real loopback server and hands Run its address:
//
//	adaptertest.Run(t, func(t *testing.T, m *core.Manager) string {
//		// Build the framework's app with the adapter's middleware for m,
//		// a middleware that marks the request context with
//		// adaptertest.Mark, and one catch-all route calling
//		// adaptertest.Serve. Start it and return its base URL.
//	})
package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cloakroom/cloakroom/core"
)

// ResponseWriter is the part of a framework's response the application
// needs; http.ResponseWriter satisfies it.
type ResponseWriter interface {
	WriteHeader(code int)
	Write(p []byte) (int, error)
}

type markKey struct{}

// Mark returns ctx marked so that the suite can tell that the request's
// context reached the backend. Adapter tests apply it to each request's
// context before the session middleware runs.
func Mark(ctx context.Context) context.Context {
	return context.WithValue(ctx, markKey{}, true)
}

func marked(ctx context.Context) bool {
	v, _ := ctx.Value(markKey{}).(bool)
	return v
}

// Serve is the application the suite drives. Adapter tests call it from a
// catch-all route with the request's context, URL path and query, a
// function returning the request's session through the adapter, and the
// response. It answers every route of the suite; see the suite's tests for
// what each does.
func Serve(ctx context.Context, path string, query url.Values, session func() (*core.Session, error), w ResponseWriter) {
	if path == "/healthz" {
		w.WriteHeader(200)
		fmt.Fprint(w, "ok")
		return
	}
	s, err := session()
	if again, err2 := session(); err == nil && (err2 != nil || again != s) {
		err = errors.New("a second call returned another session")
	}
	switch {
	case errors.Is(err, core.ErrNoSession):
		w.WriteHeader(200)
		fmt.Fprint(w, "no session")
		return
	case err != nil:
		w.WriteHeader(503)
		fmt.Fprintf(w, "load: %v", err)
		return
	}
	k, v := query.Get("k"), query.Get("v")
	switch path {
	case "/get":
		val, _ := s.GetString(k)
		w.WriteHeader(200)
		fmt.Fprint(w, val)
	case "/get-int":
		n, _ := s.GetInt(k)
		w.WriteHeader(200)
		fmt.Fprint(w, n)
	case "/set":
		s.Set(k, v)
		w.WriteHeader(200)
		fmt.Fprint(w, "ok")
	case "/set-created":
		s.Set(k, v)
		w.WriteHeader(201)
	case "/set-implicit":
		s.Set(k, v)
		fmt.Fprint(w, "ok") // no WriteHeader: the first Write commits
	case "/set-silent":
		s.Set(k, v) // writes no response at all
	case "/incr":
		n, err := s.Incr("n", 1)
		if err != nil {
			w.WriteHeader(400)
			fmt.Fprint(w, err)
			return
		}
		w.WriteHeader(200)
		fmt.Fprint(w, strconv.FormatInt(n, 10))
	case "/clear":
		s.Clear()
		w.WriteHeader(204)
	case "/destroy":
		s.Destroy()
		w.WriteHeader(204)
	case "/regenerate":
		s.Regenerate()
		w.WriteHeader(204)
	case "/late":
		w.WriteHeader(200)
		fmt.Fprint(w, "written first")
		s.Set(k, v)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, "no such route")
	}
}
