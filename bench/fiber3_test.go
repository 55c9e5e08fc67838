package bench

import (
	"errors"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/extractors"
	"github.com/gofiber/fiber/v3/middleware/session"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
)

// On Fiber v3: cloakroom's fiber3 adapter against Fiber v3's own session
// package with its default in-memory storage, both as the middleware its
// documentation recommends (fiber-session) and as a store that handlers
// call (fiber-store).
var fiber3Libs = []lib{
	{name: "cloakroom", start: cloakroomFiber3},
	{name: "fiber-session", start: fiber3Session, resends: true},
	{name: "fiber-store", start: fiber3Store},
}

// errNoFiberSession is what a Fiber v3 handler returns when the session
// middleware did not run, which would be a bug in this file.
var errNoFiberSession = errors.New("no fiber session middleware on this route")

func newFiber3App(middleware fiber.Handler, handler fiber.Handler) app {
	a := fiber.New() // v3 prints its banner in Listen only
	if middleware != nil {
		a.Use(middleware)
	}
	a.Get("/", handler)
	return fiberApp{a.Handler()}
}

func cloakroomFiber3(tb testing.TB) func(mode) app {
	mw := fibersession.New(fibersession.Config{Manager: cloakroomManager(tb)})
	return func(m mode) app {
		return newFiber3App(mw, func(c fiber.Ctx) error {
			if m != none {
				s, err := fibersession.Get(c)
				if err != nil {
					return err
				}
				useCloakroom(s, m)
			}
			return nil
		})
	}
}

// Fiber v3's session is middleware, the pattern its documentation
// recommends: for every request, asked for or not, it reads the cookie,
// loads and gob-decodes the stored session (or makes a new one), and once
// the handler has returned it gob-encodes the whole session, stores it
// again and sets the cookie again (a sliding expiry), even when nothing
// changed. So NoSession and Read pay for a load and a save, and the peer
// answers them with a Set-Cookie that cloakroom does not send. IdleTimeout
// is v2's Expiration under its v3 name; ids are 32 random bytes in
// base64url (43 characters), as cloakroom's are.
func fiber3Session(tb testing.TB) func(mode) app {
	mw, store := session.NewWithStore(fiber3SessionConfig())
	tb.Cleanup(func() { _ = store.Storage.Close() })
	return func(m mode) app {
		return newFiber3App(mw, func(c fiber.Ctx) error {
			if m == none {
				return nil
			}
			s := session.FromContext(c)
			if s == nil {
				return errNoFiberSession
			}
			switch m {
			case read:
				last.user, _ = s.Get("user").(string)
			case write:
				n, _ := s.Get("n").(int)
				s.Set("n", n+1)
				last.n = int64(n + 1)
			case seed:
				s.Set("user", "alice")
				s.Set("n", 1)
			}
			return nil
		})
	}
}

// fiber3SessionConfig is the configuration of both Fiber v3 peers.
func fiber3SessionConfig() session.Config {
	return session.Config{
		IdleTimeout:    lifetime,
		Extractor:      extractors.FromCookie(cookieName),
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: fiber.CookieSameSiteLaxMode,
	}
}

// fiber3Store is Fiber v3's session package without its middleware: the
// handler calls the Store, as Fiber v2's handlers do, so that a request
// pays only for what it asks. NoSession is the bare app; Read loads and
// gob-decodes the session and saves nothing, so it sends no cookie and,
// unlike the middleware, does not slide the idle timeout (an application
// that wants the middleware's expiry would Save here too); Write and New
// gob-encode the whole session, store it and set the cookie, as cloakroom
// does. Every handler hands its session back to Fiber's pool with
// Release, which v3 asks of sessions taken from the Store. The
// configuration is the middleware's: IdleTimeout, the cookie, ids of 32
// random bytes in base64url.
func fiber3Store(tb testing.TB) func(mode) app {
	store := session.NewStore(fiber3SessionConfig())
	tb.Cleanup(func() { _ = store.Storage.Close() })
	return func(m mode) app {
		return newFiber3App(nil, func(c fiber.Ctx) error {
			if m == none {
				return nil
			}
			s, err := store.Get(c)
			if err != nil {
				return err
			}
			defer s.Release()
			switch m {
			case read:
				last.user, _ = s.Get("user").(string)
				return nil
			case write:
				n, _ := s.Get("n").(int)
				s.Set("n", n+1)
				last.n = int64(n + 1)
			case seed:
				s.Set("user", "alice")
				s.Set("n", 1)
			}
			return s.Save()
		})
	}
}
