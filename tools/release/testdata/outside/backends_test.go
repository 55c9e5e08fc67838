package main

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/backends/memcached"
	"github.com/cloakroom/cloakroom/backends/mongodb"
	"github.com/cloakroom/cloakroom/backends/redis"
	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
	"github.com/cloakroom/cloakroom/core"
	goredis "github.com/redis/go-redis/v9"
)

// The backends that need a server are tested against one on its default
// port of the loopback interface when it is running, and for a prompt,
// clear failure when it is not.
const (
	redisAddr     = "127.0.0.1:6379"
	memcachedAddr = "127.0.0.1:11211"
	mongodbAddr   = "127.0.0.1:27017"
)

// downBound is how long a backend may take to fail when its server is not
// running: their defaults bound a call to 1.5 s, and connecting to a port
// nothing listens on is refused at once.
const downBound = 3 * time.Second

// Every backend is a core.Backend, and the ones that can compare a stored
// value with the one read are core.Conditional, which the Manager needs to
// lose no concurrent update.
var (
	_ core.Conditional = (*filesystem.Store)(nil)
	_ core.Conditional = (*sqlstore.Store)(nil)
	_ core.Conditional = (*redis.Store)(nil)
	_ core.Conditional = (*memcached.Store)(nil)
	_ core.Conditional = (*mongodb.Store)(nil)
)

func TestFilesystem(t *testing.T) {
	store, err := filesystem.New(t.TempDir(), filesystem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	wantSaveLoad(t, store)
}

func TestSQLite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sessions.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	wantSaveLoad(t, store)
}

func TestRedis(t *testing.T) {
	t.Parallel() // each may wait out downBound
	ctx, cancel := context.WithTimeout(context.Background(), downBound)
	defer cancel()
	start := time.Now()
	store, err := redis.Open(ctx, "redis://"+redisAddr+"/0", redis.Options{})
	if !listening(redisAddr) {
		wantConnError(t, "redis.Open", "redis", err, time.Since(start))
		// New does no I/O: the Store is made, and a save through the
		// Manager fails.
		client := goredis.NewClient(&goredis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
		defer client.Close()
		wantUnavailable(t, "redis", redis.New(client, redis.Options{Timeout: redis.DefaultTimeout}))
		return
	}
	if err != nil {
		t.Fatalf("a server listens on %s, but: %v", redisAddr, err)
	}
	defer store.Close()
	wantSaveLoad(t, store)
}

func TestMemcached(t *testing.T) {
	t.Parallel() // each may wait out downBound
	ctx, cancel := context.WithTimeout(context.Background(), downBound)
	defer cancel()
	start := time.Now()
	store, err := memcached.Open(ctx, memcachedAddr, memcached.Options{})
	if !listening(memcachedAddr) {
		wantConnError(t, "memcached.Open", "memcached", err, time.Since(start))
		client := memcache.New(memcachedAddr)
		defer client.Close()
		wantUnavailable(t, "memcached", memcached.New(client, memcached.Options{}))
		return
	}
	if err != nil {
		t.Fatalf("a server listens on %s, but: %v", memcachedAddr, err)
	}
	defer store.Close()
	wantSaveLoad(t, store)
}

func TestMongoDB(t *testing.T) {
	t.Parallel() // each may wait out downBound
	ctx, cancel := context.WithTimeout(context.Background(), downBound)
	defer cancel()
	start := time.Now()
	// New asks the server about itself, so without one there is no Store.
	store, err := mongodb.Open(ctx, "mongodb://"+mongodbAddr+"/cloakroom_release_check", mongodb.Options{})
	if !listening(mongodbAddr) {
		wantConnError(t, "mongodb.Open", "mongodb", err, time.Since(start))
		return
	}
	if err != nil {
		t.Fatalf("a server listens on %s, but: %v", mongodbAddr, err)
	}
	defer store.Close()
	wantSaveLoad(t, store)
}

// wantSaveLoad saves a session through a Manager over b, loads it back by
// its id, then deletes it.
func wantSaveLoad(t *testing.T, b core.Backend) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := core.NewManager(b)
	// The servers may be shared: keep out of others' keys, and let what
	// a failed run leaves behind expire.
	m.KeyPrefix, m.Lifetime = "cloakroom-release-check:", time.Minute

	s := m.New(ctx)
	s.Set("user", "ada")
	if wrote, err := m.Save(ctx, s); err != nil || !wrote {
		t.Fatalf("Save = %t, %v; want true, nil", wrote, err)
	}
	loaded, err := m.Load(ctx, s.ID())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if user, _ := loaded.GetString("user"); loaded.IsNew() || user != "ada" {
		t.Fatalf("Load gave a session new=%t with user %q, want the one saved with ada", loaded.IsNew(), user)
	}
	loaded.Destroy()
	if _, err := m.Save(ctx, loaded); err != nil {
		t.Fatalf("Save of the destroyed session: %v", err)
	}
	if again, err := m.Load(ctx, s.ID()); err != nil || !again.IsNew() {
		t.Fatalf("Load after the delete = new %t, %v; want a new session", again != nil && again.IsNew(), err)
	}
}

// wantUnavailable checks that a Manager over b, a store of backend whose
// server is not running, fails a save within downBound with an error that makes a 503.
func wantUnavailable(t *testing.T, backend string, b core.Backend) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), downBound)
	defer cancel()
	m := core.NewManager(b)
	s := m.New(ctx)
	s.Set("user", "ada")
	start := time.Now()
	_, err := m.Save(ctx, s)
	wantConnError(t, "Manager.Save", backend, err, time.Since(start))
	if got := core.HTTPStatus(err); got != 503 {
		t.Errorf("core.HTTPStatus(%v) = %d, want 503", err, got)
	}
}

// wantConnError checks that err, returned by op after took, names the
// backend and says that it could not connect (refused) or gave up (a
// timeout, after retrying), and that it came within downBound.
func wantConnError(t *testing.T, op, backend string, err error, took time.Duration) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s succeeded with no server", op)
	case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrConflict):
		t.Errorf("%s: %v, which claims to know the key", op, err)
	case !strings.Contains(err.Error(), backend+": "):
		t.Errorf("%s: %v, which does not name the backend (%s)", op, err, backend)
	case !errors.Is(err, syscall.ECONNREFUSED) && !strings.Contains(err.Error(), "connection refused") &&
		!errors.Is(err, context.DeadlineExceeded):
		t.Errorf("%s: %v, want an error that says the connection was refused or timed out", op, err)
	default:
		t.Logf("%s without a server, after %v: %v", op, took.Round(time.Millisecond), err)
	}
	if took > downBound+500*time.Millisecond {
		t.Errorf("%s took %v to fail, more than %v", op, took, downBound)
	}
}

// listening reports whether a server accepts connections at addr.
func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
