package redis

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// wantDown checks that every operation of store fails promptly with an
// error naming the backend, never ErrNotFound.
func wantDown(t *testing.T, store *Store) {
	t.Helper()
	const limit = 2 * time.Second
	check := func(op string, f func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		start := time.Now()
		err := f(ctx)
		took := time.Since(start)
		switch {
		case err == nil:
			t.Errorf("%s against a dead server succeeded", op)
		case errors.Is(err, core.ErrNotFound):
			t.Errorf("%s against a dead server: %v, want a connection error, not ErrNotFound", op, err)
		case !strings.HasPrefix(err.Error(), "redis: "):
			t.Errorf("%s error %q does not name the backend", op, err)
		}
		if took > limit+500*time.Millisecond {
			t.Errorf("%s took %v, past its %v deadline", op, took, limit)
		}
		t.Logf("%s failed after %v: %v", op, took.Round(time.Millisecond), err)
	}
	check("Get", func(ctx context.Context) error { _, err := store.Get(ctx, "k"); return err })
	check("Set", func(ctx context.Context) error { return store.Set(ctx, "k", []byte("v"), time.Minute) })
	check("Delete", func(ctx context.Context) error { return store.Delete(ctx, "k") })
	check("Touch", func(ctx context.Context) error { return store.Touch(ctx, "k", time.Minute) })
	check("GetVersion", func(ctx context.Context) error { _, _, err := store.GetVersion(ctx, "k"); return err })
	check("SetIf(nil)", func(ctx context.Context) error { return store.SetIf(ctx, "k", nil, []byte("v"), time.Minute) })
	check("SetIf", func(ctx context.Context) error {
		return store.SetIf(ctx, "k", core.Version("v"), []byte("w"), time.Minute)
	})
	check("DeleteIf", func(ctx context.Context) error { return store.DeleteIf(ctx, "k", core.Version("v")) })
	check("Keys", func(ctx context.Context) error {
		for _, err := range store.Keys(ctx, "k") {
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	addr := backendtest.ClosedAddr(t)
	client := goredis.NewClient(&goredis.Options{
		Addr:                  addr,
		DialTimeout:           200 * time.Millisecond,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	wantDown(t, New(client, Options{}))
	var opErr *net.OpError
	_, err := New(client, Options{}).Get(context.Background(), "k")
	if !errors.As(err, &opErr) {
		t.Errorf("Get error %v does not expose the *net.OpError", err)
	}
	t.Logf("error seen: %v", err)
}

// TestOpenUnreachable checks that Open gives up within its context's
// deadline when nothing answers, with an error that names the backend and
// hides the password.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	const limit = 2 * time.Second
	for name, raw := range map[string]string{
		"standalone": "redis://:hunter2@" + backendtest.ClosedAddr(t) + "/0",
		"cluster":    "redis+cluster://:hunter2@" + backendtest.ClosedAddr(t) + "," + backendtest.ClosedAddr(t),
		"sentinel":   "redis+sentinel://:hunter2@" + backendtest.ClosedAddr(t) + "?master_name=m&password=hunter2",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			start := time.Now()
			store, err := Open(ctx, raw, Options{})
			took := time.Since(start)
			if err == nil {
				_ = store.Close()
				t.Fatal("Open of a dead server succeeded")
			}
			if !strings.HasPrefix(err.Error(), "redis: open ") {
				t.Errorf("error %q does not name the backend and the operation", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
			if took > limit+500*time.Millisecond {
				t.Errorf("Open took %v, past its %v deadline", took, limit)
			}
			t.Logf("Open failed after %v: %v", took.Round(time.Millisecond), err)
		})
	}
}

// TestOpenClosesClientOnFailure checks that the client Open built is closed
// when the server does not answer, so no pool or goroutine is left behind.
func TestOpenClosesClientOnFailure(t *testing.T) {
	t.Parallel()
	client := goredis.NewClient(&goredis.Options{Addr: backendtest.ClosedAddr(t), DialTimeout: 200 * time.Millisecond})
	if _, err := own(context.Background(), client, Options{}); err == nil {
		t.Fatal("own succeeded against a dead server")
	}
	// The close runs in the background.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := client.Ping(context.Background()).Err()
		if errors.Is(err, goredis.ErrClosed) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping 5s after the failed open = %v, want %v", err, goredis.ErrClosed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUnreachableCluster(t *testing.T) {
	t.Parallel()
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 []string{backendtest.ClosedAddr(t), backendtest.ClosedAddr(t)},
		DialTimeout:           200 * time.Millisecond,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	wantDown(t, New(client, Options{}))
}

// TestServerRestart runs its own redis-server, kills it, checks the errors
// the Store then gives, restarts the server on the same port and checks the
// same Store works again.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	bin := redisBinary(t)
	addr := backendtest.ClosedAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	client := goredis.NewClient(&goredis.Options{
		Addr:                  addr,
		DialTimeout:           200 * time.Millisecond,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store := New(client, Options{})
	ctx := context.Background()

	srv := startRedisOn(t, bin, port, dir)
	if err := store.Set(ctx, "k", []byte("before"), time.Minute); err != nil {
		srv.stop()
		t.Fatalf("Set with the server up: %v", err)
	}
	srv.stop()
	wantDown(t, store)

	srv = startRedisOn(t, bin, port, dir)
	defer srv.stop()
	// After failed dials go-redis stops dialling and probes the server about
	// once a second, so the first calls after the restart may still fail.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := store.Get(ctx, "k")
		if errors.Is(err, core.ErrNotFound) { // the server keeps nothing
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get 5s after the restart = %v, want ErrNotFound", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := store.Set(ctx, "k", []byte("after"), time.Minute); err != nil {
		t.Fatalf("Set after restart: %v", err)
	}
	// The new server has no script cached: SetIf falls back to EVAL.
	_, version, err := store.GetVersion(ctx, "k")
	if err != nil {
		t.Fatalf("GetVersion after restart: %v", err)
	}
	if err := store.SetIf(ctx, "k", version, []byte("swapped"), time.Minute); err != nil {
		t.Fatalf("SetIf after restart: %v", err)
	}
	if got, err := store.Get(ctx, "k"); err != nil || string(got) != "swapped" {
		t.Fatalf("Get after restart = %q, %v", got, err)
	}
}
