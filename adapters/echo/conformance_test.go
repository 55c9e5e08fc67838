package echosession_test

import (
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/adaptertest"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, ms ...*core.Manager) string {
		e := echo.New()
		e.Use(middleware.Recover())
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				r := c.Request()
				c.SetRequest(r.WithContext(adaptertest.Mark(r.Context())))
				return next(c)
			}
		})
		for _, m := range ms {
			e.Use(echosession.Middleware(m))
		}
		e.Any("/*", func(c echo.Context) error {
			r := c.Request()
			adaptertest.Serve(r.URL.Path, c.QueryParams(), ms, func(m *core.Manager) (*core.Session, error) {
				if m == nil {
					return echosession.Get(c)
				}
				return echosession.GetFor(c, m)
			}, c.Response())
			return nil
		})
		srv := httptest.NewServer(e) // listens on 127.0.0.1:0
		t.Cleanup(srv.Close)
		return srv.URL
	})
}
