package sqltest

import (
	"context"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// Store is what the stalled-server checks need of a *sqlstore.Store, which
// they cannot name: sqlstore's own tests import this package.
type Store interface {
	core.Conditional
	CreateTable(ctx context.Context) error
	Close() error
}

// CheckStalled puts a proxy that stops forwarding between the server at
// addr and a Store that open makes (a driver's Open with default options,
// given the DSN via returns for the proxy's address): every call, and a
// Manager's Load and Save, must fail within 2 seconds, also with 20
// requests at once, and the Store must work again once the proxy forwards
// again.
func CheckStalled[S Store](t *testing.T, addr string, via func(testing.TB, string) string, open func(context.Context, string) (S, error)) {
	t.Helper()
	p := backendtest.StartProxy(t, addr)
	ctx := context.Background()
	s, err := open(ctx, via(t, p.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	backendtest.CheckFrozen(t, s, p.Stall, p.Resume)
}

// CheckOpenStalled: open, with a context without deadline, must give up on
// a server that accepts connections but never answers its handshake after
// about connect, the driver's default connect timeout.
func CheckOpenStalled[S Store](t *testing.T, addr string, via func(testing.TB, string) string, open func(context.Context, string) (S, error), connect time.Duration) {
	t.Helper()
	p := backendtest.StartProxy(t, addr)
	p.Stall()
	o := backendtest.Timed(func(ctx context.Context) error {
		s, err := open(ctx, via(t, p.Addr))
		if err == nil {
			_ = s.Close()
		}
		return err
	})
	if o.Err == nil || o.Hung || o.Took > connect+time.Second {
		t.Fatalf("Open on a stalled server: %v after %v, want an error after about %v", o.Err, o.Took, connect)
	}
	t.Logf("Open on a stalled server failed after %v: %v", o.Took.Round(time.Millisecond), o.Err)
}
