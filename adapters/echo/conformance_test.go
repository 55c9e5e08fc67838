package echosession_test

import (
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/adaptertest"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, m *core.Manager) string {
		e := echo.New()
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				r := c.Request()
				c.SetRequest(r.WithContext(adaptertest.Mark(r.Context())))
				return next(c)
			}
		})
		e.Use(echosession.Middleware(m))
		e.Any("/*", func(c echo.Context) error {
			r := c.Request()
			adaptertest.Serve(r.Context(), r.URL.Path, c.QueryParams(),
				func() (*core.Session, error) { return echosession.Get(c) }, c.Response())
			return nil
		})
		srv := httptest.NewServer(e) // listens on 127.0.0.1:0
		t.Cleanup(srv.Close)
		return srv.URL
	})
}
