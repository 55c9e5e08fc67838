package redis

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// ownRedis is a throwaway redis-server a test started itself on a free
// port. Only such a server is ever frozen or killed by a test.
type ownRedis struct {
	t    testing.TB
	addr string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// redisBinary returns the path of redis-server, or skips (fails under
// CLOAKROOM_REQUIRE_SERVICES) when it is not installed.
func redisBinary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		backendtest.Unavailable(t, "redis-server binary (apt-get install redis-server)", err)
	}
	return bin
}

// startOwnRedis starts redis-server with extra arguments on a free port,
// waits until it answers and stops it when the test ends.
func startOwnRedis(t testing.TB, extra ...string) *ownRedis {
	t.Helper()
	addr := backendtest.ClosedAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	srv := startRedisOn(t, redisBinary(t), port, t.TempDir(), extra...)
	t.Cleanup(srv.stop)
	return srv
}

// startRedisOn starts redis-server on port with its files in dir and
// waits until it answers. The caller stops it.
func startRedisOn(t testing.TB, bin, port, dir string, extra ...string) *ownRedis {
	t.Helper()
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--loglevel", "warning"}, extra...)
	return launchRedis(t, bin, net.JoinHostPort("127.0.0.1", port), args...)
}

// launchRedis runs bin with args, a server that will listen on addr, and
// waits until it answers a PING there. The caller stops it.
func launchRedis(t testing.TB, bin, addr string, args ...string) *ownRedis {
	t.Helper()
	srv := &ownRedis{t: t, addr: addr, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	if err := srv.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	go func() { _ = srv.cmd.Wait(); close(srv.done) }()
	ping := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer ping.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ping.Ping(ctx).Err()
		cancel()
		if err == nil {
			return srv
		}
		select {
		case <-srv.done:
			t.Fatalf("redis-server on %s exited: %v", addr, err)
		default:
		}
		if time.Now().After(deadline) {
			srv.stop()
			t.Fatalf("redis-server on %s did not answer within 10s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the server (thawing it first, should it be frozen) and waits
// for it to exit. It may be called more than once.
func (srv *ownRedis) stop() {
	select {
	case <-srv.done:
		return
	default:
	}
	_ = srv.cmd.Process.Signal(syscall.SIGCONT)
	_ = srv.cmd.Process.Kill()
	<-srv.done
}

// freeze stops the server with SIGSTOP and waits until every one of its
// threads is stopped: kill(2) returns before the signal takes effect, and
// a thread still running could answer the next request. The kernel keeps
// accepting TCP connections for a frozen server, which then never answer.
func (srv *ownRedis) freeze() {
	srv.t.Helper()
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		srv.t.Fatalf("SIGSTOP redis-server: %v", err)
	}
	tasks := fmt.Sprintf("/proc/%d/task", srv.cmd.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if allStopped(tasks) {
			return
		}
	}
	srv.t.Fatal("redis-server did not stop within 5s of SIGSTOP")
}

// thaw resumes a frozen server.
func (srv *ownRedis) thaw() {
	srv.t.Helper()
	if err := srv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		srv.t.Fatalf("SIGCONT redis-server: %v", err)
	}
}

// allStopped reports whether every thread under a /proc/PID/task folder is
// in state T (stopped).
func allStopped(tasks string) bool {
	entries, err := os.ReadDir(tasks)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join(tasks, e.Name(), "stat"))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
			return false
		}
	}
	return true
}
