package nethttp_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/adaptertest"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, m *core.Manager) string {
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			adaptertest.Serve(r.Context(), r.URL.Path, r.URL.Query(),
				func() (*core.Session, error) { return nethttp.Get(r) }, w)
		})
		sessions := nethttp.Middleware(m)(app)
		mark := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sessions.ServeHTTP(w, r.WithContext(adaptertest.Mark(r.Context())))
		})
		srv := httptest.NewServer(mark)
		t.Cleanup(srv.Close)
		return srv.URL
	})
}

func TestNilManagerPanics(t *testing.T) {
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, core.ErrNilManager) {
			t.Errorf("Middleware(nil) panicked with %v, want core.ErrNilManager", err)
		}
	}()
	nethttp.Middleware(nil)
	t.Error("Middleware(nil) did not panic")
}
