package memcached

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// peerClient is a plain gomemcache client over the test servers, standing
// in for another program (a Python peer) that writes the same keys blindly
// on connections of its own.
func peerClient(t *testing.T) *memcache.Client {
	t.Helper()
	c := memcache.New(serverAddrs()...)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustGetVersion(t *testing.T, s *Store, key, want string) core.Version {
	t.Helper()
	got, v, err := s.GetVersion(context.Background(), key)
	if err != nil || string(got) != want {
		t.Fatalf("GetVersion(%q) = %q, %v; want %q", key, got, err, want)
	}
	return v
}

func TestVersionIsTheCASID(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	peer := peerClient(t)
	ctx := context.Background()
	key := uniqueKey("casid")
	if err := s.Set(ctx, key, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	v := mustGetVersion(t, s, key, "v")
	item, err := peer.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 8 || binary.BigEndian.Uint64(v) != item.CasID {
		t.Fatalf("version = %x, want the CAS id %d in 8 bytes big-endian", v, item.CasID)
	}
}

// TestPeerBlindWriteDetected has a peer on its own connections overwrite
// the key between our read and our write, with the same bytes even: a
// write that compared values, or a blind overwrite, would go through.
func TestPeerBlindWriteDetected(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	peer := peerClient(t)
	ctx := context.Background()
	key := uniqueKey("peerwrite")
	if err := s.Set(ctx, key, []byte(`{"n": 1}`), time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	v := mustGetVersion(t, s, key, `{"n": 1}`)
	if err := peer.Set(&memcache.Item{Key: key, Value: []byte(`{"n": 1}`), Expiration: 60}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIf(ctx, key, v, []byte(`{"n": 9}`), time.Minute); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf after a peer's Set of the same bytes: err = %v, want ErrConflict", err)
	}
	if err := s.DeleteIf(ctx, key, v); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("DeleteIf after a peer's Set of the same bytes: err = %v, want ErrConflict", err)
	}
	mustGetVersion(t, s, key, `{"n": 1}`)
}

// TestDeleteIfExpiresAtOnce checks the cas-to-expired form of DeleteIf on
// the real server: the key reads as absent to us and to a peer at once, a
// write with the old CAS id fails as not found, and the key is free again.
func TestDeleteIfExpiresAtOnce(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	peer := peerClient(t)
	ctx := context.Background()
	key := uniqueKey("deleteif")
	if err := s.Set(ctx, key, []byte("live"), time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	v := mustGetVersion(t, s, key, "live")
	if err := s.DeleteIf(ctx, key, v); err != nil {
		t.Fatalf("DeleteIf with the current version: %v", err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get right after DeleteIf: err = %v, want ErrNotFound", err)
	}
	if _, err := peer.Get(key); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Fatalf("a peer's get right after DeleteIf: err = %v, want a cache miss", err)
	}
	if err := s.SetIf(ctx, key, v, []byte("revived"), time.Hour); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("SetIf with the version DeleteIf removed: err = %v, want ErrNotFound", err)
	}
	item := &memcache.Item{Key: key, Value: []byte("revived"), CasID: binary.BigEndian.Uint64(v)}
	if err := peer.CompareAndSwap(item); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Fatalf("a peer's cas with the old CAS id after DeleteIf: err = %v, want NOT_FOUND", err)
	}
	if err := s.DeleteIf(ctx, key, v); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("DeleteIf again: err = %v, want ErrNotFound", err)
	}
	if err := s.Touch(ctx, key, time.Hour); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Touch after DeleteIf: err = %v, want ErrNotFound", err)
	}
	if err := s.SetIf(ctx, key, nil, []byte("new"), time.Hour); err != nil {
		t.Fatalf("SetIf(nil) after DeleteIf: %v, want the key free", err)
	}
	mustGetVersion(t, s, key, "new")
}

// TestDeleteIfRacesSetIf starts a DeleteIf and several SetIf calls with the
// same version at once, many times over: exactly one may win, and the key
// must end as the winner left it. A blind write or a delete without a check
// lets more than one succeed, or a write revive a deleted key.
func TestDeleteIfRacesSetIf(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	key := uniqueKey("deleterace")
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	const rounds, writers = 40, 4
	deletes := 0
	for round := range rounds {
		if err := s.Set(ctx, key, []byte("start"), time.Minute); err != nil {
			t.Fatal(err)
		}
		v := mustGetVersion(t, s, key, "start")
		results := make([]error, writers+1)
		var wg sync.WaitGroup
		wg.Add(writers + 1)
		for w := range writers {
			go func() {
				defer wg.Done()
				results[w] = s.SetIf(ctx, key, v, fmt.Appendf(nil, "writer %d", w), time.Minute)
			}()
		}
		go func() {
			defer wg.Done()
			results[writers] = s.DeleteIf(ctx, key, v)
		}()
		wg.Wait()
		winner := -1
		for i, err := range results {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: calls %d and %d both succeeded with one version", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, core.ErrConflict) && !errors.Is(err, core.ErrNotFound):
				t.Fatalf("round %d: call %d: %v", round, i, err)
			}
		}
		got, err := s.Get(ctx, key)
		switch {
		case winner < 0:
			t.Fatalf("round %d: no call succeeded", round)
		case winner == writers:
			deletes++
			if !errors.Is(err, core.ErrNotFound) {
				t.Fatalf("round %d: DeleteIf won but Get = %q, %v", round, got, err)
			}
		case err != nil || string(got) != fmt.Sprintf("writer %d", winner):
			t.Fatalf("round %d: writer %d won but Get = %q, %v", round, winner, got, err)
		}
	}
	t.Logf("DeleteIf won %d of %d rounds", deletes, rounds)
}

// TestTouchKeepsVersion pins down what memcached does with the CAS id on
// touch (it keeps it): a Touch between GetVersion and SetIf changes no
// value, so the SetIf must go through.
func TestTouchKeepsVersion(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	key := uniqueKey("touchcas")
	if err := s.Set(ctx, key, []byte("v1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	v := mustGetVersion(t, s, key, "v1")
	if err := s.Touch(ctx, key, time.Hour); err != nil {
		t.Fatal(err)
	}
	if after := mustGetVersion(t, s, key, "v1"); string(after) != string(v) {
		t.Fatalf("touch changed the version from %x to %x; update the docs (spurious conflicts)", v, after)
	}
	if err := s.SetIf(ctx, key, v, []byte("v2"), time.Minute); err != nil {
		t.Fatalf("SetIf after a Touch: %v", err)
	}
}

func TestMalformedVersionNoIO(t *testing.T) {
	// Nothing listens on the address: any I/O would give a network error.
	s := storeWithTimeout(t, []string{backendtest.ClosedAddr(t)}, 200*time.Millisecond)
	ctx := context.Background()
	versions := map[string]core.Version{
		"empty":   {},
		"7 bytes": make(core.Version, 7),
		"9 bytes": make(core.Version, 9),
		"zero":    make(core.Version, 8),
	}
	for name, v := range versions {
		if err := s.SetIf(ctx, "k", v, []byte("x"), time.Minute); !errors.Is(err, errInvalidVersion) {
			t.Errorf("SetIf with a %s version: err = %v, want errInvalidVersion", name, err)
		}
		if err := s.DeleteIf(ctx, "k", v); !errors.Is(err, errInvalidVersion) {
			t.Errorf("DeleteIf with a %s version: err = %v, want errInvalidVersion", name, err)
		}
	}
	if err := s.DeleteIf(ctx, "k", nil); !errors.Is(err, errInvalidVersion) {
		t.Errorf("DeleteIf with a nil version: err = %v, want errInvalidVersion", err)
	}
}

// TestCASDisabledServer runs memcached with -C, which answers gets with a
// CAS id of 0 and every cas with EXISTS: GetVersion must say so rather than
// make a version no write can ever match.
func TestCASDisabledServer(t *testing.T) {
	srv := startOwnServer(t, "-C")
	s := storeWithTimeout(t, []string{srv.addr}, time.Second)
	ctx := context.Background()
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetVersion(ctx, "k"); !errors.Is(err, ErrCASDisabled) {
		t.Fatalf("GetVersion on a -C server: err = %v, want ErrCASDisabled", err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatalf("Get on a -C server: %v", err)
	}
}
