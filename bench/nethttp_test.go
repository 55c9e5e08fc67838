package bench

import (
	"net/http"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/gorilla/sessions"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// On net/http: cloakroom with its memory backend, scs with its memstore,
// and gorilla/sessions with its CookieStore. gorilla has no maintained
// in-memory server-side store (quasoft/memstore, "for tests and dev", was
// last changed in 2019; the gin-contrib memstore benchmarked in gin_test.go
// is gorilla over it), and its FilesystemStore is disk, so gorilla is
// measured with the data in a signed cookie: no store, but gob, HMAC and
// base64 on every request that asks.
var netHTTPLibs = []lib{
	{name: "cloakroom", start: cloakroomNetHTTP},
	{name: "scs", start: scsNetHTTP},
	{name: "gorilla-cookie", start: gorillaCookie},
}

// cloakroomManager returns a Manager with defaults on a fresh memory backend.
func cloakroomManager(tb testing.TB) *core.Manager {
	store := memory.New(memory.Options{})
	tb.Cleanup(func() { store.Close() })
	m := core.NewManager(store)
	m.Lifetime = lifetime
	return m
}

// useCloakroom does mode's work on a cloakroom session.
func useCloakroom(s *core.Session, m mode) {
	switch m {
	case read:
		last.user, _ = s.GetString("user")
	case write:
		n, _ := s.GetInt("n")
		s.Set("n", n+1)
		last.n = n + 1
	case seed:
		s.Set("user", "alice")
		s.Set("n", 1)
	}
}

func cloakroomNetHTTP(tb testing.TB) func(mode) app {
	mw := nethttp.Middleware(cloakroomManager(tb))
	return func(m mode) app {
		return httpApp{mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m != none {
				s, err := nethttp.Get(r)
				if err != nil {
					http.Error(w, err.Error(), http.StatusServiceUnavailable)
					return
				}
				useCloakroom(s, m)
			}
			w.WriteHeader(http.StatusOK)
		}))}
	}
}

// scs loads the session in LoadAndSave for every request, asked for or
// not: it has no lazy mode. Its codec is gob, as by default.
func scsNetHTTP(tb testing.TB) func(mode) app {
	sm := scs.New()
	// Its cleanup goroutine is left running: StopCleanup races with the
	// goroutine's start (scs v2.9.0), which -race reports.
	sm.Store = memstore.New()
	sm.Lifetime = lifetime
	sm.Cookie.Name = cookieName // the default already, as are Path, HttpOnly, SameSite and Persist
	return func(m mode) app {
		return httpApp{sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			switch m {
			case read:
				last.user = sm.GetString(ctx, "user")
			case write:
				n := sm.GetInt(ctx, "n")
				sm.Put(ctx, "n", n+1)
				last.n = int64(n + 1)
			case seed:
				sm.Put(ctx, "user", "alice")
				sm.Put(ctx, "n", 1)
			}
			w.WriteHeader(http.StatusOK)
		}))}
	}
}

// gorilla has no middleware: NoSession is the bare handler. Its cookie is
// signed (HMAC-SHA256) but not encrypted, the least work it allows; it
// carries the data, so Write re-encodes everything into a new cookie, and
// in the benchmark every Write starts again from the seeded n=1.
func gorillaCookie(tb testing.TB) func(mode) app {
	store := sessions.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"))
	store.Options = &sessions.Options{
		Path: "/", MaxAge: int(lifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
	return func(m mode) app {
		return httpApp{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m != none {
				s, err := store.Get(r, cookieName)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				if !useGorilla(s.Values, m) {
					if err := s.Save(r, w); err != nil {
						http.Error(w, err.Error(), http.StatusInternalServerError)
						return
					}
				}
			}
			w.WriteHeader(http.StatusOK)
		})}
	}
}

// useGorilla does mode's work on gorilla-style session values, as
// gorilla/sessions and gin-contrib/sessions hold them, and reports
// whether it only read them.
func useGorilla(values map[any]any, m mode) (readOnly bool) {
	switch m {
	case read:
		last.user, _ = values["user"].(string)
		return true
	case write:
		n, _ := values["n"].(int)
		values["n"] = n + 1
		last.n = int64(n + 1)
	case seed:
		values["user"] = "alice"
		values["n"] = 1
	}
	return false
}
