package bench

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
)

// On Echo v5: cloakroom's echo5 adapter alone. Echo's session middleware
// lives in echo-contrib, which has no release for Echo v5 (its v0.50.1
// still requires echo/v4), so there is no peer to run beside it; the rows
// still show what the adapter costs on Echo next to the other frameworks'
// cloakroom rows. (There are no Echo v4 rows to mirror: the
// peer there would be echo-contrib's gorilla/sessions, already measured
// on net/http and, as gin-contrib, on gin.)
var echo5Libs = []lib{
	{name: "cloakroom", start: cloakroomEcho5},
}

func newEcho5App(middleware echo.MiddlewareFunc, handler echo.HandlerFunc) app {
	e := echo.New()
	e.Use(middleware)
	e.GET("/", handler)
	return httpApp{e}
}

func cloakroomEcho5(tb testing.TB) func(mode) app {
	mw := echosession.Middleware(cloakroomManager(tb))
	return func(m mode) app {
		return newEcho5App(mw, func(c *echo.Context) error {
			if m != none {
				s, err := echosession.Get(c)
				if err != nil {
					return err
				}
				useCloakroom(s, m)
			}
			return c.NoContent(http.StatusOK)
		})
	}
}
