package mongodb

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// TestFrozenServer freezes (SIGSTOP) a FerretDB of its own under a Store
// made by Open with default options: every call, and a Manager's Load and
// Save over the Store, fail within 2 seconds with a backend error, one at a
// time and 20 at once, with contexts that have no deadline (as requests'
// have none); once the server runs again, the same Store works again.
func TestFrozenServer(t *testing.T) {
	srv := startFerretDB(t, ferretDBBin(t), backendtest.ClosedAddr(t), t.TempDir())
	var s *Store
	eventually(t, 30*time.Second, "open the test's own FerretDB", func(ctx context.Context) (err error) {
		s, err = Open(ctx, "mongodb://"+srv.addr+"/", Options{Logger: slog.New(slog.DiscardHandler)})
		return err
	})
	t.Cleanup(func() { _ = s.Close() })
	backendtest.CheckFrozen(t, s, srv.freeze, srv.thaw)
}
