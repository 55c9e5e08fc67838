package bench

import (
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
)

// On Fiber v2: cloakroom's adapter against Fiber's own session package with
// its default in-memory storage.
var fiberLibs = []lib{
	{name: "cloakroom", start: cloakroomFiber},
	{name: "fiber-session", start: fiberSession},
}

func newFiberApp(middleware fiber.Handler, handler fiber.Handler) app {
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	if middleware != nil {
		a.Use(middleware)
	}
	a.Get("/", handler)
	return fiberApp{a.Handler()}
}

func cloakroomFiber(tb testing.TB) func(mode) app {
	mw := fibersession.New(fibersession.Config{Manager: cloakroomManager(tb)})
	return func(m mode) app {
		return newFiberApp(mw, func(c *fiber.Ctx) error {
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

// Fiber v2's session is not middleware but a store that handlers call, so
// NoSession is the bare app. Save rewrites the whole session (gob) and its
// cookie, so handlers call it only after a change, as an application
// would; v2 has no way to hand back a session that is not saved, so Read
// leaves its pooled session to the garbage collector. Ids are uuid4 strings
// (36 characters) rather than cloakroom's 43-character random ids.
func fiberSession(tb testing.TB) func(mode) app {
	store := session.New(session.Config{
		Expiration:     lifetime,
		KeyLookup:      "cookie:" + cookieName,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
	})
	tb.Cleanup(func() { _ = store.Storage.Close() })
	return func(m mode) app {
		return newFiberApp(nil, func(c *fiber.Ctx) error {
			if m == none {
				return nil
			}
			s, err := store.Get(c)
			if err != nil {
				return err
			}
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
