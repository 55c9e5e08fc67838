package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

// maxBody bounds request bodies; a session value has no business being
// larger.
const maxBody = 64 << 10

// request is what the demo needs of an HTTP request, whatever the
// framework.
type request struct {
	method, path string
	body         io.Reader
	session      func() (*core.Session, error)
}

// reply is the demo's answer, written out by each framework's glue.
type reply struct {
	status      int
	contentType string
	body        []byte
}

// app holds the demo's routes. Every framework sends every request that is
// not for a static file or the health check here, so that all of them
// behave the same by construction.
type app struct {
	log  *slog.Logger
	page *template.Template
}

func text(status int, msg string) reply {
	return reply{status: status, contentType: "text/plain; charset=utf-8", body: []byte(msg + "\n")}
}

func noContent() reply { return reply{status: http.StatusNoContent} }

// serve routes one request.
func (a *app) serve(ctx context.Context, r request) reply {
	switch {
	case r.path == "/healthz" && r.method == http.MethodGet:
		return text(http.StatusOK, "ok")
	case r.path == "/":
		return a.only(r, http.MethodGet, func() reply { return a.index(ctx, r) })
	case r.path == "/api/session":
		return a.only(r, http.MethodGet, func() reply { return a.withSession(ctx, r, a.show) })
	case r.path == "/api/login":
		return a.only(r, http.MethodPost, func() reply { return a.withSession(ctx, r, a.login) })
	case r.path == "/api/logout":
		return a.only(r, http.MethodPost, func() reply { return a.withSession(ctx, r, a.logout) })
	}
	for _, prefix := range [...]string{"/api/incr/", "/api/session/"} {
		// The session keeps its own bookkeeping under reserved keys: a client
		// that could rewrite _addr or _created would defeat protection and
		// timeouts.
		if key, ok := strings.CutPrefix(r.path, prefix); ok && core.Reserved(key) {
			return text(http.StatusBadRequest, strconv.Quote(key)+" is reserved")
		}
	}
	if key, ok := strings.CutPrefix(r.path, "/api/incr/"); ok && key != "" {
		return a.only(r, http.MethodPost, func() reply {
			return a.withSession(ctx, r, func(s *core.Session, r request) reply { return a.incr(s, key) })
		})
	}
	if key, ok := strings.CutPrefix(r.path, "/api/session/"); ok && key != "" {
		switch r.method {
		case http.MethodPut:
			return a.withSession(ctx, r, func(s *core.Session, r request) reply { return a.put(s, r, key) })
		case http.MethodDelete:
			return a.withSession(ctx, r, func(s *core.Session, r request) reply { s.Delete(key); return noContent() })
		}
		return text(http.StatusMethodNotAllowed, "method not allowed")
	}
	return text(http.StatusNotFound, "not found")
}

func (a *app) only(r request, method string, next func() reply) reply {
	if r.method != method {
		return text(http.StatusMethodNotAllowed, "method not allowed")
	}
	return next()
}

// withSession loads the session and hands it to next, or answers 503 when
// the session store cannot give it (500 when what it gave is unreadable).
func (a *app) withSession(ctx context.Context, r request, next func(*core.Session, request) reply) reply {
	s, err := r.session()
	if err != nil {
		a.log.ErrorContext(ctx, "session unavailable", "path", r.path, "err", err)
		return text(core.HTTPStatus(err), "session store unavailable")
	}
	return next(s, r)
}

// show answers the session in tagged JSON, so tuples, bytes, UUIDs and
// datetimes keep their type.
func (a *app) show(s *core.Session, _ request) reply {
	data := make(map[string]any)
	for k, v := range s.All() {
		data[k] = v
	}
	b, err := codec.MarshalTagged(data)
	if err != nil {
		return text(http.StatusInternalServerError, "session holds a value tagged JSON cannot write")
	}
	return reply{status: http.StatusOK, contentType: "application/json", body: b}
}

func (a *app) put(s *core.Session, r request, key string) reply {
	body, status := readBody(r.body)
	if status != 0 {
		return text(status, "request body too large")
	}
	v, err := codec.UnmarshalTagged(body)
	if err != nil {
		return text(http.StatusBadRequest, "body is not a tagged-JSON value: "+err.Error())
	}
	s.Set(key, v)
	return noContent()
}

// incr adds 1 with the session's read-modify-write operation, so that
// concurrent increments of one session all count.
func (a *app) incr(s *core.Session, key string) reply {
	n, err := s.Incr(key, 1)
	if err != nil {
		return text(http.StatusConflict, "cannot add 1 to the value under "+strconv.Quote(key)+": "+err.Error())
	}
	return reply{status: http.StatusOK, contentType: "application/json", body: strconv.AppendInt(nil, n, 10)}
}

func (a *app) login(s *core.Session, r request) reply {
	body, status := readBody(r.body)
	if status != 0 {
		return text(status, "request body too large")
	}
	var in struct {
		User string `json:"user"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || strings.TrimSpace(in.User) == "" {
		return text(http.StatusBadRequest, `body must be {"user": "name"}`)
	}
	s.Regenerate() // a new id at login: a planted one is worth nothing
	s.Set("user", in.User)
	s.Flash("message", "Logged in as "+in.User+".")
	return noContent()
}

func (a *app) logout(s *core.Session, _ request) reply {
	s.Destroy()
	return noContent()
}

// readBody reads at most maxBody bytes; status is non-zero when the body is
// larger or unreadable.
func readBody(r io.Reader) ([]byte, int) {
	if r == nil {
		return nil, 0
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, http.StatusBadRequest
	}
	if len(b) > maxBody {
		return nil, http.StatusRequestEntityTooLarge
	}
	return b, 0
}
