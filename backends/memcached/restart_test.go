package memcached

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// callers is how many requests run at once in the load tests.
const callers = 20

// ownServer is a memcached process started by a test on a port of its own.
type ownServer struct {
	t     *testing.T
	bin   string
	addr  string
	extra []string // more memcached flags, such as -C
	cmd   *exec.Cmd
}

// startOwnServer starts memcached on a free port with extra flags and
// kills it when the test ends.
func startOwnServer(t *testing.T, extra ...string) *ownServer {
	t.Helper()
	bin, err := exec.LookPath("memcached")
	if err != nil {
		backendtest.Unavailable(t, "the memcached binary (Debian package memcached)", err)
	}
	srv := &ownServer{t: t, bin: bin, addr: backendtest.ClosedAddr(t), extra: extra}
	srv.start()
	t.Cleanup(srv.kill)
	return srv
}

func (srv *ownServer) start() {
	srv.t.Helper()
	port := srv.addr[strings.LastIndexByte(srv.addr, ':')+1:]
	args := append([]string{"-p", port, "-l", "127.0.0.1", "-U", "0", "-u", "root", "-m", "16"}, srv.extra...)
	srv.cmd = exec.Command(srv.bin, args...)
	if err := srv.cmd.Start(); err != nil {
		srv.t.Fatalf("start memcached: %v", err)
	}
	c := memcache.New(srv.addr)
	defer c.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := c.Ping()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			srv.t.Fatalf("memcached on %s did not answer within 5s: %v", srv.addr, err)
		}
	}
}

func (srv *ownServer) signal(sig syscall.Signal) {
	srv.t.Helper()
	if sig == syscall.SIGSTOP {
		backendtest.Freeze(srv.t, srv.cmd.Process) // returns once every thread is stopped
		return
	}
	if err := srv.cmd.Process.Signal(sig); err != nil {
		srv.t.Fatalf("signal %v to memcached: %v", sig, err)
	}
}

func (srv *ownServer) kill() {
	if srv.cmd == nil || srv.cmd.Process == nil {
		return
	}
	_ = srv.cmd.Process.Signal(syscall.SIGCONT)
	_ = srv.cmd.Process.Kill()
	_ = srv.cmd.Wait()
	srv.cmd = nil
}

func TestServerRestart(t *testing.T) {
	srv := startOwnServer(t)
	s := storeWithTimeout(t, []string{srv.addr}, 300*time.Millisecond)
	ctx := context.Background()
	if err := s.Set(ctx, "k", []byte("before"), time.Minute); err != nil {
		t.Fatalf("Set on a fresh server: %v", err)
	}

	srv.kill()
	for i := range 3 { // the first call may find a pooled connection; all must fail
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s.Get(ctx, "k")
		cancel()
		if err == nil || errors.Is(err, core.ErrNotFound) {
			t.Fatalf("Get #%d with the server down: err = %v, want a connection error", i, err)
		}
		t.Logf("server down: %v", err)
	}

	srv.start()
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = s.Set(ctx, "k", []byte("after"), time.Minute); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("Set after the restart never succeeded: %v", err)
	}
	if got, err := s.Get(ctx, "k"); err != nil || string(got) != "after" {
		t.Fatalf("Get after the restart = %q, %v; want \"after\"", got, err)
	}
}

// TestDeadlineBeforeTimeout freezes a server so that calls hang, and checks
// that a context deadline shorter than the client timeout still ends them.
func TestDeadlineBeforeTimeout(t *testing.T) {
	srv := startOwnServer(t)
	s := storeWithTimeout(t, []string{srv.addr}, 5*time.Second)
	if err := s.Set(context.Background(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	_, version, err := s.GetVersion(context.Background(), "k")
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	srv.signal(syscall.SIGSTOP)
	value := []byte("frozen")
	calls := map[string]func(context.Context) error{
		"Get":    func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
		"Set":    func(ctx context.Context) error { return s.Set(ctx, "k", value, time.Minute) },
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
		"Touch":  func(ctx context.Context) error { return s.Touch(ctx, "k", time.Minute) },
		"GetVersion": func(ctx context.Context) error {
			_, _, err := s.GetVersion(ctx, "k")
			return err
		},
		"SetIf(nil)": func(ctx context.Context) error { return s.SetIf(ctx, "k", nil, value, time.Minute) },
		"SetIf":      func(ctx context.Context) error { return s.SetIf(ctx, "k", version, value, time.Minute) },
		"DeleteIf":   func(ctx context.Context) error { return s.DeleteIf(ctx, "k", version) },
	}
	for op, call := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a frozen server: err = %v, want DeadlineExceeded", op, err)
		}
		if took > time.Second {
			t.Errorf("%s on a frozen server took %v with a 150ms deadline", op, took)
		}
	}
	copy(value, "XXXXXX") // Set and SetIf must have kept their own copy for the abandoned calls
	srv.signal(syscall.SIGCONT)
	got, err := s.Get(context.Background(), "k")
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get after the server thawed: %v", err)
	}
	if err == nil && string(got) != "v" && string(got) != "frozen" {
		t.Fatalf("Get after the server thawed = %q, want \"v\" or \"frozen\"", got)
	}
}

func TestCanceledContextNoIO(t *testing.T) {
	s := storeWithTimeout(t, []string{backendtest.ClosedAddr(t)}, 200*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for op, err := range everyCall(ctx, s, "k") {
		if !isContextErr(err) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled", op, err)
		}
	}
}

// TestFrozenServerDefaults freezes (SIGSTOP) a server under a Store made by
// Open with zero Options, called with contexts that have no deadline, as
// requests' have. The kernel still accepts TCP connections for the frozen
// server, which never answers them: gomemcache's Timeout must bound the
// connect and the exchange of every call, pooled connection or new. It
// checks that every call of the Store, and 20 concurrent loads and saves
// of core.Managers, fail within two seconds with an error that matches
// core.ErrBackend, and that the Store works again once the server thaws.
// It is not parallel: its timings must not compete for the CPU.
func TestFrozenServerDefaults(t *testing.T) {
	srv := startOwnServer(t)
	s, err := Open(context.Background(), srv.addr, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	m := core.NewManager(s)
	ctx := context.Background()
	loaded := backendtest.LoadedSessions(t, m, callers)

	srv.signal(syscall.SIGSTOP)
	thawed := false
	defer func() {
		if !thawed {
			srv.signal(syscall.SIGCONT)
		}
	}()

	// A key of their own: a write the frozen server takes in late must not
	// overwrite a session the Manager reloads after the thaw.
	key := "frozen-probe"
	version := core.Version{0, 0, 0, 0, 0, 0, 0, 1}
	isStoreErr := func(err error) bool {
		return strings.HasPrefix(err.Error(), "memcached: ") &&
			!errors.Is(err, core.ErrNotFound) && !errors.Is(err, core.ErrConflict)
	}
	for _, call := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, key); return err }},
		{"Set", func(ctx context.Context) error { return s.Set(ctx, key, []byte("v"), time.Minute) }},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, key) }},
		{"Touch", func(ctx context.Context) error { return s.Touch(ctx, key, time.Minute) }},
		{"GetVersion", func(ctx context.Context) error { _, _, err := s.GetVersion(ctx, key); return err }},
		{"SetIf(nil)", func(ctx context.Context) error { return s.SetIf(ctx, key, nil, []byte("v"), time.Minute) }},
		{"SetIf", func(ctx context.Context) error { return s.SetIf(ctx, key, version, []byte("v"), time.Minute) }},
		{"DeleteIf", func(ctx context.Context) error { return s.DeleteIf(ctx, key, version) }},
	} {
		c := backendtest.Timed(call.call)
		backendtest.WantFast(t, call.name, c, isStoreErr)
		t.Logf("%s failed after %v: %v", call.name, c.Took.Round(time.Millisecond), c.Err)
	}

	backendtest.CheckFrozenManagers(t, m, loaded)

	srv.signal(syscall.SIGCONT)
	thawed = true
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err = m.Load(ctx, loaded[0].ID()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Load 5s after the thaw: %v", err)
		}
	}
}
