package mongodb

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ownFerretDB is a FerretDB process a test started, on a port of its own.
type ownFerretDB struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// ferretDBBin returns the path of the FerretDB binary that
// scripts/services/mongodb.sh builds, or skips the test without it.
func ferretDBBin(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(backendtest.Env("CLOAKROOM_FERRETDB_BIN", "../../.services/bin/ferretdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		backendtest.Unavailable(t, "the FerretDB binary (scripts/services/mongodb.sh start builds it)", err)
	}
	return bin
}

// startFerretDB runs bin on addr with its data in dir, killed when the
// test ends.
func startFerretDB(t *testing.T, bin, addr, dir string) *ownFerretDB {
	t.Helper()
	cmd := exec.Command(bin, "-listen", addr, "-data", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	f := &ownFerretDB{t: t, addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(f.done) }()
	t.Cleanup(f.kill)
	return f
}

// kill ends the process, stopped or not, and waits for it.
func (f *ownFerretDB) kill() {
	_ = f.cmd.Process.Signal(syscall.SIGCONT)
	_ = f.cmd.Process.Kill()
	<-f.done
}

// freeze stops the process (see backendtest.Freeze).
func (f *ownFerretDB) freeze() { backendtest.Freeze(f.t, f.cmd.Process) }

// thaw lets a frozen process run again.
func (f *ownFerretDB) thaw() { backendtest.Thaw(f.t, f.cmd.Process) }

// eventually retries f until it succeeds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServerRestart runs a FerretDB of its own, kills it under a working
// Store, checks that calls fail cleanly, restarts it on the same port and
// data, and checks that the same Store works again and kept its data.
func TestServerRestart(t *testing.T) {
	bin := ferretDBBin(t)
	addr, dir := backendtest.ClosedAddr(t), t.TempDir()
	srv := startFerretDB(t, bin, addr, dir)

	var s *Store
	var err error
	eventually(t, 30*time.Second, "open the test's own FerretDB", func(ctx context.Context) error {
		s, err = Open(ctx, "mongodb://"+addr+"/", Options{
			ClientOptions: options.Client().SetServerSelectionTimeout(time.Second),
		})
		return err
	})
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	if err := s.Set(ctx, "kept", []byte("before"), time.Hour); err != nil {
		t.Fatalf("Set: %v", err)
	}

	srv.kill()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	start := time.Now()
	_, err = s.Get(cctx, "kept")
	cancel()
	if err == nil || errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get with the server down: err = %v, want a connection error", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Get with the server down took %v", took)
	}
	t.Logf("server down: %v", err)

	startFerretDB(t, bin, addr, dir)
	eventually(t, 30*time.Second, "Get after the restart", func(ctx context.Context) error {
		got, err := s.Get(ctx, "kept")
		if err == nil && string(got) != "before" {
			t.Fatalf("Get after restart = %q, want before", got)
		}
		return err
	})
	if err := s.Set(ctx, "new", []byte("after"), time.Hour); err != nil {
		t.Fatalf("Set after restart: %v", err)
	}
	_, v, err := s.GetVersion(ctx, "kept")
	if err != nil {
		t.Fatalf("GetVersion after restart: %v", err)
	}
	if err := s.SetIf(ctx, "kept", v, []byte("saved"), time.Hour); err != nil {
		t.Fatalf("SetIf after restart: %v", err)
	}
	if err := s.SetIf(ctx, "kept", v, []byte("stale"), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("stale SetIf after restart: err = %v, want ErrConflict", err)
	}
}
