package nethttp_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/adaptertest"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, ms ...*core.Manager) string {
		var sessions http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			adaptertest.Serve(r.URL.Path, r.URL.Query(), ms, func(m *core.Manager) (*core.Session, error) {
				if m == nil {
					return nethttp.Get(r)
				}
				return nethttp.GetFor(r, m)
			}, w)
		})
		for _, m := range slices.Backward(ms) {
			sessions = nethttp.Middleware(m)(sessions)
		}
		mark := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sessions.ServeHTTP(w, r.WithContext(adaptertest.Mark(r.Context())))
		})
		srv := httptest.NewUnstartedServer(mark)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the kit's panics
		srv.Start()
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
