package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// callers is how many requests run at once in the load tests.
const callers = 20

// storeCalls lists every call of the Store, each on key.
func storeCalls(s *Store, key string) []struct {
	name string
	call func(ctx context.Context) error
} {
	value := []byte("v")
	return []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, key); return err }},
		{"Set", func(ctx context.Context) error { return s.Set(ctx, key, value, time.Minute) }},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, key) }},
		{"Touch", func(ctx context.Context) error { return s.Touch(ctx, key, time.Minute) }},
		{"Touch(persist)", func(ctx context.Context) error { return s.Touch(ctx, key, 0) }},
		{"GetVersion", func(ctx context.Context) error { _, _, err := s.GetVersion(ctx, key); return err }},
		{"SetIf(nil)", func(ctx context.Context) error { return s.SetIf(ctx, key, nil, value, time.Minute) }},
		{"SetIf", func(ctx context.Context) error { return s.SetIf(ctx, key, core.Version("v"), value, time.Minute) }},
		{"DeleteIf", func(ctx context.Context) error { return s.DeleteIf(ctx, key, core.Version("v")) }},
		{"Keys", func(ctx context.Context) error {
			for _, err := range s.Keys(ctx, key) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
	}
}

// isConnectionError accepts an error of the Store's that is not a reply
// of the server's (found, not found, conflict).
func isConnectionError(err error) bool {
	return strings.HasPrefix(err.Error(), "redis: ") &&
		!errors.Is(err, core.ErrNotFound) && !errors.Is(err, core.ErrConflict)
}

// frozenTopology is a set of servers a test started itself, the URL that
// Open takes for it, and the servers to freeze.
type frozenTopology struct {
	url    string
	freeze []*ownRedis
	// concurrentOnly skips the single calls, which other topologies
	// check: a small pool matters only when callers compete for it.
	concurrentOnly bool
}

// TestFrozenServer freezes (SIGSTOP) a redis-server the test started, under
// a Store made by Open with default Options, and checks that (a) every call
// of the Store and (b) concurrent loads and saves of a core.Manager fail
// within two seconds with an error that matches core.ErrBackend, then that
// the Store works again once the server is thawed. It runs on one server,
// one server reached through a small pool (so that callers wait for a
// connection), a one-node Cluster and a master watched by Sentinel. It is
// not parallel: its timings must not compete with other tests for the CPU.
func TestFrozenServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) frozenTopology
	}{
		{"standalone", func(t *testing.T) frozenTopology {
			srv := startOwnRedis(t)
			return frozenTopology{url: "redis://" + srv.addr + "/0", freeze: []*ownRedis{srv}}
		}},
		{"small-pool", func(t *testing.T) frozenTopology {
			srv := startOwnRedis(t)
			return frozenTopology{url: "redis://" + srv.addr + "/0?pool_size=2", freeze: []*ownRedis{srv}, concurrentOnly: true}
		}},
		{"cluster", func(t *testing.T) frozenTopology {
			srv := startOneNodeCluster(t)
			return frozenTopology{url: "redis+cluster://" + srv.addr, freeze: []*ownRedis{srv}}
		}},
		{"sentinel", func(t *testing.T) frozenTopology {
			master, sentinel := startSentinel(t, "frozen")
			return frozenTopology{
				url:    "redis+sentinel://" + sentinel.addr + "?master_name=frozen",
				freeze: []*ownRedis{master},
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := tc.setup(t)
			store, err := Open(context.Background(), top.url, Options{})
			if err != nil {
				t.Fatalf("Open(%s): %v", top.url, err)
			}
			defer store.Close()
			checkFrozen(t, store, top)
		})
	}
}

// checkFrozen runs the checks of TestFrozenServer on store, made by Open
// for top.
func checkFrozen(t *testing.T, store *Store, top frozenTopology) {
	m := core.NewManager(store)
	ctx := context.Background()
	loaded := backendtest.LoadedSessions(t, m, callers)

	for _, srv := range top.freeze {
		srv.freeze()
	}
	thawed := false
	thaw := func() {
		if !thawed {
			for _, srv := range top.freeze {
				srv.thaw()
			}
			thawed = true
		}
	}
	defer thaw()

	if !top.concurrentOnly {
		// A key of their own: a write the frozen server takes in late
		// must not overwrite a session the Managers reload.
		for _, c := range storeCalls(store, "frozen-probe") {
			o := backendtest.Timed(c.call)
			backendtest.WantFast(t, c.name, o, isConnectionError)
			t.Logf("%s failed after %v: %v", c.name, o.Took.Round(time.Millisecond), o.Err)
		}
	}
	backendtest.CheckFrozenManagers(t, m, loaded)

	thaw()
	// The Store recovers by itself: failed connections were dropped, and
	// go-redis dials new ones.
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err = m.Load(ctx, loaded[0].ID()); err == nil {
			return
		}
	}
	t.Fatalf("Load 5s after the thaw: %v", err)
}

// startOneNodeCluster starts a redis-server in cluster mode that owns every
// hash slot, the smallest Cluster there is.
func startOneNodeCluster(t *testing.T) *ownRedis {
	t.Helper()
	srv := startOwnRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	admin := goredis.NewClient(&goredis.Options{Addr: srv.addr})
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	for {
		info, err := admin.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return srv
		}
		if ctx.Err() != nil {
			t.Fatalf("one-node cluster on %s not ok within 10s: %v %q", srv.addr, err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startSentinel starts a master and a Sentinel watching it under name, and
// waits until the Sentinel names the master.
func startSentinel(t *testing.T, name string) (master, sentinel *ownRedis) {
	t.Helper()
	master = startOwnRedis(t)
	masterHost, masterPort, _ := net.SplitHostPort(master.addr)
	addr := backendtest.ClosedAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	// Sentinel rewrites its config file, so it gets a fresh writable one. A
	// long down-after keeps it from failing over during the test.
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 60000\n",
		port, dir, name, masterHost, masterPort, name)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel = launchRedis(t, redisBinary(t), addr, conf, "--sentinel")
	t.Cleanup(sentinel.stop)
	client := goredis.NewSentinelClient(&goredis.Options{Addr: addr})
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		got, err := client.GetMasterAddrByName(ctx, name).Result()
		if err == nil && len(got) == 2 && net.JoinHostPort(got[0], got[1]) == master.addr {
			return master, sentinel
		}
		if ctx.Err() != nil {
			t.Fatalf("sentinel on %s does not name master %s within 10s: %v %v", addr, master.addr, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKilledServer kills a redis-server the test started under a Store made
// by Open with default Options, and checks that every call, and concurrent
// loads of a Manager, then fail within two seconds: the refused dials are
// retried by go-redis, within the Store's bound only.
func TestKilledServer(t *testing.T) {
	t.Parallel()
	srv := startOwnRedis(t)
	store, err := Open(context.Background(), "redis://"+srv.addr, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer store.Close()
	m := core.NewManager(store)
	s := m.New(context.Background())
	s.Set("n", 1)
	if _, err := m.Save(context.Background(), s); err != nil {
		t.Fatalf("Save with the server up: %v", err)
	}
	srv.stop()
	for _, c := range storeCalls(store, "k") {
		o := backendtest.Timed(c.call)
		backendtest.WantFast(t, c.name, o, isConnectionError)
		t.Logf("%s failed after %v: %v", c.name, o.Took.Round(time.Millisecond), o.Err)
	}
	loads := backendtest.Concurrently(callers, func(ctx context.Context, _ int) error {
		_, err := m.Load(ctx, s.ID())
		return err
	})
	for i, o := range loads {
		backendtest.WantFast(t, fmt.Sprintf("Manager.Load #%d of %d", i, callers), o,
			func(err error) bool { return errors.Is(err, core.ErrBackend) })
	}
	t.Logf("%d concurrent Manager.Load: slowest failed after %v: %v",
		callers, backendtest.Slowest(loads).Round(time.Millisecond), loads[0].Err)
}
