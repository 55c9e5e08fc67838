package redis

import (
	"context"
	"net"
	"os/exec"
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

// freeze stops the server (see backendtest.Freeze).
func (srv *ownRedis) freeze() { backendtest.Freeze(srv.t, srv.cmd.Process) }

// thaw resumes a frozen server.
func (srv *ownRedis) thaw() { backendtest.Thaw(srv.t, srv.cmd.Process) }
