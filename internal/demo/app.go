package demo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

// maxBody bounds request bodies; a session value has no business being
// larger.
const maxBody = 64 << 10

// Request is what the demo needs of an HTTP request, whatever the
// framework.
type Request struct {
	Method, Path string
	Body         io.Reader
	Session      func() (*core.Session, error)
}

// Reply is the demo's answer, written out by each framework's glue.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}

// App holds the demo's routes. Every framework sends every request that is
// not for a static file or the health check here, so that all of them
// behave the same by construction.
type App struct {
	// Framework and Backend name what serves the demo, for the page.
	Framework, Backend string
	// Metrics serves GET /metrics (-metrics), beside the static files and
	// without a session; nil leaves /metrics to the routes: a 404.
	Metrics http.Handler

	log    *slog.Logger
	page   *template.Template
	m      *core.Manager // for the user's sessions, which span requests
	cookie string        // how the token travels, for the page
	// pageClients is false when the token travels in a header.
	pageClients bool
}

// NewApp returns the demo's routes over m, for the server c describes.
func NewApp(log *slog.Logger, m *core.Manager, c Config) *App {
	return &App{
		Framework: cmp.Or(c.Framework, "nethttp"),
		Backend:   cmp.Or(c.Backend, "memory"),
		log:       log,
		page:      parsePage(),
		m:         m,
		cookie:    describeCookie(m, c.Transport),
		// A header token comes from a program: it reads no page and
		// must be told to drop its token, not handed a new one.
		pageClients: c.Transport == "" || c.Transport == "cookie",
	}
}

func text(status int, msg string) Reply {
	return Reply{Status: status, ContentType: "text/plain; charset=utf-8", Body: []byte(msg + "\n")}
}

func noContent() Reply { return Reply{Status: http.StatusNoContent} }

// Serve routes one request.
func (a *App) Serve(ctx context.Context, r Request) Reply {
	switch {
	case r.Path == "/healthz" && r.Method == http.MethodGet:
		return text(http.StatusOK, "ok")
	case r.Path == "/":
		return a.only(r, http.MethodGet, func() Reply { return a.index(ctx, r) })
	case r.Path == "/api/session":
		return a.only(r, http.MethodGet, func() Reply { return a.withSession(ctx, r, a.show) })
	case r.Path == "/api/login":
		return a.only(r, http.MethodPost, func() Reply { return a.withSession(ctx, r, a.login) })
	case r.Path == "/api/logout":
		return a.only(r, http.MethodPost, func() Reply { return a.withSession(ctx, r, a.logout) })
	case r.Path == "/api/me/sessions":
		switch r.Method {
		case http.MethodGet:
			return a.withUser(ctx, r, a.devices)
		case http.MethodDelete:
			return a.withUser(ctx, r, a.logoutOthers)
		}
		return text(http.StatusMethodNotAllowed, "method not allowed")
	}
	if handle, ok := strings.CutPrefix(r.Path, "/api/me/sessions/"); ok && handle != "" {
		return a.only(r, http.MethodDelete, func() Reply {
			return a.withUser(ctx, r, func(ctx context.Context, s *core.Session, user string) Reply {
				return a.logoutDevice(ctx, user, handle)
			})
		})
	}
	for _, prefix := range [...]string{"/api/incr/", "/api/session/"} {
		// The session keeps its own bookkeeping under reserved keys: a client
		// that could rewrite _addr or _created would defeat protection and
		// timeouts.
		if key, ok := strings.CutPrefix(r.Path, prefix); ok && core.Reserved(key) {
			return text(http.StatusBadRequest, strconv.Quote(key)+" is reserved")
		}
	}
	if key, ok := strings.CutPrefix(r.Path, "/api/incr/"); ok && key != "" {
		return a.only(r, http.MethodPost, func() Reply {
			return a.withSession(ctx, r, func(s *core.Session, r Request) Reply { return a.incr(ctx, s, key) })
		})
	}
	if key, ok := strings.CutPrefix(r.Path, "/api/session/"); ok && key != "" {
		switch r.Method {
		case http.MethodPut:
			return a.withSession(ctx, r, func(s *core.Session, r Request) Reply { return a.put(s, r, key) })
		case http.MethodDelete:
			return a.withSession(ctx, r, func(s *core.Session, r Request) Reply { s.Delete(key); return noContent() })
		}
		return text(http.StatusMethodNotAllowed, "method not allowed")
	}
	return text(http.StatusNotFound, "not found")
}

func (a *App) only(r Request, method string, next func() Reply) Reply {
	if r.Method != method {
		return text(http.StatusMethodNotAllowed, "method not allowed")
	}
	return next()
}

// withSession loads the session and hands it to next, or answers 503 when
// the session store cannot give it (500 when what it gave is unreadable).
func (a *App) withSession(ctx context.Context, r Request, next func(*core.Session, Request) Reply) Reply {
	s, err := r.Session()
	if err != nil {
		a.log.ErrorContext(ctx, "session unavailable", "path", r.Path, "err", err)
		return text(core.HTTPStatus(err), "session store unavailable")
	}
	return next(s, r)
}

// show answers the session in tagged JSON, so tuples, bytes, UUIDs and
// datetimes keep their type. It includes the keys Flask's layout reserves
// (pending flashes, the owner), which a Python peer's tests compare.
func (a *App) show(s *core.Session, _ Request) Reply {
	data := make(map[string]any)
	for k, v := range s.All() {
		data[k] = v
	}
	b, err := codec.MarshalTagged(data)
	if err != nil {
		return text(http.StatusInternalServerError, "session holds a value tagged JSON cannot write")
	}
	return Reply{Status: http.StatusOK, ContentType: "application/json", Body: b}
}

func (a *App) put(s *core.Session, r Request, key string) Reply {
	body, status := readBody(r.Body)
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

// incr adds 1 and saves at once, so that concurrent increments of one
// session all count and each reply carries a number no other got.
func (a *App) incr(ctx context.Context, s *core.Session, key string) Reply {
	n, err := s.IncrNow(ctx, key, 1)
	if errors.Is(err, core.ErrNotInteger) || errors.Is(err, core.ErrOverflow) {
		return text(http.StatusConflict, "cannot add 1 to the value under "+strconv.Quote(key)+": "+err.Error())
	}
	if err != nil {
		a.log.ErrorContext(ctx, "increment not saved", "err", err)
		return text(core.HTTPStatus(err), "the increment was not saved")
	}
	return Reply{Status: http.StatusOK, ContentType: "application/json", Body: strconv.AppendInt(nil, n, 10)}
}

func (a *App) login(s *core.Session, r Request) Reply {
	body, status := readBody(r.Body)
	if status != 0 {
		return text(status, "request body too large")
	}
	var in struct {
		User     string `json:"user"`
		Remember bool   `json:"remember"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || strings.TrimSpace(in.User) == "" {
		return text(http.StatusBadRequest, `body must be {"user": "name"}, with "remember": true or false if you like`)
	}
	s.Regenerate() // a new id at login: a planted one is worth nothing
	s.Set("user", in.User)
	s.SetOwner(in.User) // lists the session among the user's devices
	s.Flash("message", LoginFlash(in.User))
	if in.Remember {
		// However rarely the user comes back, the login lasts its 30 days:
		// an idle timeout would log out the very users who asked to stay.
		s.SetPermanent(true)
		s.SetExpiry(core.Expiry{Lifetime: RememberFor, Idle: -1})
	} else {
		// On a shared computer, closing the browser ends the login, and a
		// browser left open ends it after its idle limit.
		s.SetPermanent(false)
		s.SetExpiry(core.Expiry{Idle: a.forgetAfter()})
	}
	return noContent()
}

// LoginFlash is the message a login leaves for the next page: what the
// login changed, rather than the page's own "Logged in as" line again.
func LoginFlash(user string) string {
	return "Welcome, " + user + "! Logging in gave your session a new id."
}

// RememberFor is how long "remember me" keeps a login, and so the longest
// the demo's Manager lets a session set for itself (MaxLifetime).
const RememberFor = 30 * 24 * time.Hour

// DefaultForgetAfter is the idle limit of a login not remembered when -idle
// sets none: without one, the session would outlive a browser that is
// never closed by the Manager's whole Lifetime.
const DefaultForgetAfter = 12 * time.Hour

// forgetAfter returns the idle limit of a login not remembered: -idle's,
// when set, as every other session of the demo has.
func (a *App) forgetAfter() time.Duration {
	if a.m.IdleTimeout > 0 {
		return a.m.IdleTimeout
	}
	return DefaultForgetAfter
}

func (a *App) logout(s *core.Session, _ Request) Reply {
	s.Destroy()
	if a.pageClients {
		// The flash starts a new, anonymous session: the page after the
		// logout confirms it, and nothing of the old one carries over.
		s.Flash("message", "You are logged out.")
	}
	return noContent()
}

// withUser is withSession for the routes of a logged-in user: 401 when the
// session has no owner.
func (a *App) withUser(ctx context.Context, r Request, next func(context.Context, *core.Session, string) Reply) Reply {
	return a.withSession(ctx, r, func(s *core.Session, _ Request) Reply {
		user := s.Owner()
		if user == "" {
			return text(http.StatusUnauthorized, "not logged in")
		}
		return next(ctx, s, user)
	})
}

// Device is one of the user's sessions as GET /api/me/sessions lists it.
type Device struct {
	Handle    string    `json:"handle"`
	Current   bool      `json:"current"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	Addr      string    `json:"addr"`
	UserAgent string    `json:"user_agent"`
}

// userDevices lists the user's sessions, marking s's.
func (a *App) userDevices(ctx context.Context, s *core.Session, user string) ([]Device, error) {
	ds, err := a.m.Sessions(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]Device, 0, len(ds))
	for _, d := range ds {
		out = append(out, Device{
			Handle: d.Handle, Current: d.Handle == s.Handle(), Created: d.Created.UTC(), LastSeen: d.LastSeen.UTC(),
			Addr: d.Addr, UserAgent: d.UserAgent,
		})
	}
	return out, nil
}

func (a *App) devices(ctx context.Context, s *core.Session, user string) Reply {
	ds, err := a.userDevices(ctx, s, user)
	if err != nil {
		return a.storeFailed(ctx, "list sessions", err)
	}
	b, err := json.Marshal(ds)
	if err != nil {
		return text(http.StatusInternalServerError, "could not list the sessions")
	}
	return Reply{Status: http.StatusOK, ContentType: "application/json", Body: b}
}

// logoutOthers ends every session of the user but this one.
func (a *App) logoutOthers(ctx context.Context, s *core.Session, user string) Reply {
	if _, err := a.m.RevokeAll(ctx, user, s.Handle()); err != nil {
		return a.storeFailed(ctx, "revoke sessions", err)
	}
	return noContent()
}

func (a *App) logoutDevice(ctx context.Context, user, handle string) Reply {
	err := a.m.Revoke(ctx, user, handle)
	switch {
	case errors.Is(err, core.ErrUnknownSession):
		return text(http.StatusNotFound, "no such session")
	case err != nil:
		return a.storeFailed(ctx, "revoke a session", err)
	}
	return noContent()
}

func (a *App) storeFailed(ctx context.Context, what string, err error) Reply {
	if errors.Is(err, core.ErrNoBackend) {
		return text(http.StatusNotImplemented, "sessions kept in cookies cannot be listed or revoked")
	}
	a.log.ErrorContext(ctx, what, "err", err)
	return text(core.HTTPStatus(err), "session store unavailable")
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

// Manager is the Manager the App's sessions come from, for a framework's
// session middleware.
func (a *App) Manager() *core.Manager { return a.m }
