// Package adaptertest is the conformance suite every cloakroom adapter
// passes. An adapter's test serves the suite's application through the
// adapter on a real loopback server and hands Run its address:
//
//	adaptertest.Run(t, func(t *testing.T, ms ...*core.Manager) string {
//		// Build the framework's app with its recover middleware, if it
//		// has one, so that a handler's panic becomes a 500; a middleware
//		// that marks the request context with adaptertest.Mark; the
//		// adapter's middleware for each of ms in order; and one catch-all
//		// route calling adaptertest.Serve. Start it and return its base
//		// URL.
//	})
package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

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

// Sessions returns the request's session for m through the adapter under
// test: its short accessor (such as Get) when m is nil, the one that names
// the Manager (such as GetFor) otherwise.
type Sessions func(m *core.Manager) (*core.Session, error)

// Serve is the application the suite drives. Adapter tests call it from a
// catch-all route with the request's URL path and query, the
// Managers the Harness was given, the adapter's Sessions, and the
// response. It answers every route of the suite; see the suite's tests for
// what each does. The query's slot=N picks ms[N]'s session; without it the
// route uses the adapter's default, which must be ms[0]'s.
func Serve(path string, query url.Values, ms []*core.Manager, sessions Sessions, w ResponseWriter) {
	switch path {
	case "/healthz":
		w.WriteHeader(200)
		fmt.Fprint(w, "ok")
		return
	case "/set-all":
		setAll(query, ms, sessions, w)
		return
	case "/foreign":
		// A Manager that no middleware serves has no session here.
		if _, err := sessions(core.NewManager(nil)); !errors.Is(err, core.ErrNoSession) {
			w.WriteHeader(500)
			fmt.Fprintf(w, "GetFor a Manager no middleware serves: %v, want core.ErrNoSession", err)
			return
		}
		path = "/get"
	}
	s, err := session(query, ms, sessions)
	switch {
	case errors.Is(err, core.ErrNoSession):
		w.WriteHeader(200)
		fmt.Fprint(w, "no session")
		return
	case err != nil:
		w.WriteHeader(core.HTTPStatus(err))
		fmt.Fprintf(w, "load: %v", err)
		return
	}
	k, v := query.Get("k"), query.Get("v")
	if strings.HasPrefix(path, "/static/") {
		path = "/get" // for a Manager that serves static paths
	}
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
	case "/panic":
		s.Set(k, v)
		panic("adaptertest: the handler panics after a change")
	case "/late":
		w.WriteHeader(200)
		fmt.Fprint(w, "written first")
		s.Set(k, v)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, "no such route")
	}
}

// session returns the session the query's slot names, checking that the
// adapter's accessors agree with each other and with themselves.
func session(query url.Values, ms []*core.Manager, sessions Sessions) (*core.Session, error) {
	var m *core.Manager
	if slot := query.Get("slot"); slot != "" {
		i, err := strconv.Atoi(slot)
		if err != nil || i < 0 || i >= len(ms) {
			return nil, fmt.Errorf("no Manager in slot %q", slot)
		}
		m = ms[i]
	}
	s, err := sessions(m)
	if err != nil {
		return nil, err
	}
	if again, err := sessions(m); err != nil || again != s {
		return nil, errors.New("a second call returned another session")
	}
	if m == nil && len(ms) > 0 {
		if named, err := sessions(ms[0]); err != nil || named != s {
			return nil, fmt.Errorf("the default session is not the first Manager's (%v)", err)
		}
	}
	return s, nil
}

// setAll sets k=v in the session of every Manager.
func setAll(query url.Values, ms []*core.Manager, sessions Sessions, w ResponseWriter) {
	for _, m := range ms {
		s, err := sessions(m)
		if err != nil {
			w.WriteHeader(503)
			fmt.Fprintf(w, "load: %v", err)
			return
		}
		s.Set(query.Get("k"), query.Get("v"))
	}
	w.WriteHeader(200)
	fmt.Fprint(w, "ok")
}
