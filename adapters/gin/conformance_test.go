package ginsession_test

import (
	"io"
	"net/http/httptest"
	"os"
	"testing"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/adaptertest"
	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no debug output, so that examples' output is exact
	os.Exit(m.Run())
}

// mark is the harness's first middleware: it marks the request context
// that the adapter hands to the backend.
func mark(c *gin.Context) {
	c.Request = c.Request.WithContext(adaptertest.Mark(c.Request.Context()))
}

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, ms ...*core.Manager) string {
		r := gin.New()
		r.Use(gin.RecoveryWithWriter(io.Discard), mark)
		for _, m := range ms {
			r.Use(ginsession.Middleware(m))
		}
		r.Any("/*path", func(c *gin.Context) {
			adaptertest.Serve(c.Request.URL.Path, c.Request.URL.Query(), ms, func(m *core.Manager) (*core.Session, error) {
				if m == nil {
					return ginsession.Get(c)
				}
				return ginsession.GetFor(c, m)
			}, c.Writer)
		})
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		return srv.URL
	})
}
