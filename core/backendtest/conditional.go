package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// runConditional checks core.Conditional: writes and deletes conditioned on
// the version read must fail once another writer got there first, and must
// never bring back a key that was deleted.
func runConditional(t *testing.T, b core.Conditional, key func(*testing.T) string) {
	t.Run("Create", func(t *testing.T) { t.Parallel(); testCondCreate(t, b, key(t)) })
	t.Run("Swap", func(t *testing.T) { t.Parallel(); testCondSwap(t, b, key(t)) })
	t.Run("BlindWriteDetected", func(t *testing.T) { t.Parallel(); testCondBlindWrite(t, b, key(t)) })
	t.Run("NoRevival", func(t *testing.T) { t.Parallel(); testCondNoRevival(t, b, key(t)) })
	t.Run("DeleteIf", func(t *testing.T) { t.Parallel(); testCondDelete(t, b, key(t)) })
	t.Run("Expiry", func(t *testing.T) { t.Parallel(); testCondExpiry(t, b, key(t)) })
	t.Run("CanceledContext", func(t *testing.T) { t.Parallel(); testCondCanceled(t, b, key(t)) })
	t.Run("RaceCreate", func(t *testing.T) { t.Parallel(); testCondRaceCreate(t, b, key(t)) })
	t.Run("RaceIncrement", func(t *testing.T) { t.Parallel(); testCondRaceIncrement(t, b, key(t)) })
	t.Run("RaceDelete", func(t *testing.T) { t.Parallel(); testCondRaceDelete(t, b, key(t)) })
	if v, ok := b.(core.Versioner); ok {
		t.Run("VersionOf", func(t *testing.T) { t.Parallel(); testCondVersionOf(t, b, v, key(t)) })
	}
}

// testCondVersionOf checks core.Versioner: the version it tells for a
// value is the one the key holds after SetIf stored that value, with no
// read, and it stops matching once another write replaced the value.
func testCondVersionOf(t *testing.T, b core.Conditional, v core.Versioner, key string) {
	ctx := context.Background()
	t.Cleanup(func() { _ = b.Delete(ctx, key) })
	values := [][]byte{[]byte("first"), {}, []byte("caf\xc3\xa9 \x00\xff binary"), []byte("last")}
	if err := b.SetIf(ctx, key, nil, values[0], time.Hour); err != nil {
		t.Fatalf("SetIf(nil): %v", err)
	}
	for i, value := range values[1:] {
		if err := b.SetIf(ctx, key, v.VersionOf(values[i]), value, time.Hour); err != nil {
			t.Fatalf("SetIf(VersionOf(%q)) over that value: %v", values[i], err)
		}
	}
	wantValue(t, b, key, values[len(values)-1])
	wantErr(t, "SetIf(VersionOf(an older value))", b.SetIf(ctx, key, v.VersionOf(values[1]), []byte("lost"), time.Hour), core.ErrConflict)
	if v.VersionOf(nil) == nil {
		t.Fatal("VersionOf(nil) is nil, which SetIf takes for an absent key")
	}
	if err := b.DeleteIf(ctx, key, v.VersionOf(values[len(values)-1])); err != nil {
		t.Fatalf("DeleteIf(VersionOf(the stored value)): %v", err)
	}
}

func getVersion(t *testing.T, b core.Conditional, key string, want []byte) core.Version {
	t.Helper()
	got, v, err := b.GetVersion(context.Background(), key)
	if err != nil {
		t.Fatalf("GetVersion(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("GetVersion(%q) = %q, want %q", key, got, want)
	}
	return v
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func testCondCreate(t *testing.T, b core.Conditional, key string) {
	ctx := context.Background()
	t.Cleanup(func() { _ = b.Delete(ctx, key) })
	if err := b.SetIf(ctx, key, nil, []byte("first"), time.Hour); err != nil {
		t.Fatalf("SetIf(nil) of an absent key: %v", err)
	}
	wantErr(t, "SetIf(nil) of an existing key", b.SetIf(ctx, key, nil, []byte("second"), time.Hour), core.ErrConflict)
	wantValue(t, b, key, []byte("first"))
	if _, _, err := b.GetVersion(ctx, key+":absent"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("GetVersion of an absent key: err = %v, want ErrNotFound", err)
	}
}

func testCondSwap(t *testing.T, b core.Conditional, key string) {
	ctx := context.Background()
	mustSet(t, b, key, []byte("v1"), time.Hour)
	v1 := getVersion(t, b, key, []byte("v1"))
	if err := b.SetIf(ctx, key, v1, []byte("v2"), time.Hour); err != nil {
		t.Fatalf("SetIf with the current version: %v", err)
	}
	wantErr(t, "SetIf with a stale version", b.SetIf(ctx, key, v1, []byte("v3"), time.Hour), core.ErrConflict)
	wantValue(t, b, key, []byte("v2"))
	v2 := getVersion(t, b, key, []byte("v2"))
	if err := b.SetIf(ctx, key, v2, []byte("v3"), time.Hour); err != nil {
		t.Fatalf("SetIf with the version after a swap: %v", err)
	}
	wantValue(t, b, key, []byte("v3"))
}

// testCondBlindWrite is a peer (a Python app, an old cloakroom) writing
// with a plain Set between our read and our write, including a write of a
// value of the same length.
func testCondBlindWrite(t *testing.T, b core.Conditional, key string) {
	ctx := context.Background()
	mustSet(t, b, key, []byte(`{"n": 1}`), time.Hour)
	v := getVersion(t, b, key, []byte(`{"n": 1}`))
	mustSet(t, b, key, []byte(`{"n": 2}`), time.Hour)
	wantErr(t, "SetIf after a blind Set", b.SetIf(ctx, key, v, []byte(`{"n": 9}`), time.Hour), core.ErrConflict)
	wantErr(t, "DeleteIf after a blind Set", b.DeleteIf(ctx, key, v), core.ErrConflict)
	wantValue(t, b, key, []byte(`{"n": 2}`))
}

func testCondNoRevival(t *testing.T, b core.Conditional, key string) {
	ctx := context.Background()
	mustSet(t, b, key, []byte("live"), time.Hour)
	v := getVersion(t, b, key, []byte("live"))
	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetIf of a deleted key", b.SetIf(ctx, key, v, []byte("revived"), time.Hour), core.ErrNotFound)
	wantAbsent(t, b, key)
}

func testCondDelete(t *testing.T, b core.Conditional, key string) {
	ctx := context.Background()
	mustSet(t, b, key, []byte("v1"), time.Hour)
	v1 := getVersion(t, b, key, []byte("v1"))
	mustSet(t, b, key, []byte("v2"), time.Hour)
	wantErr(t, "DeleteIf with a stale version", b.DeleteIf(ctx, key, v1), core.ErrConflict)
	wantValue(t, b, key, []byte("v2"))
	v2 := getVersion(t, b, key, []byte("v2"))
	if err := b.DeleteIf(ctx, key, v2); err != nil {
		t.Fatalf("DeleteIf with the current version: %v", err)
	}
	wantAbsent(t, b, key)
	wantErr(t, "DeleteIf of an absent key", b.DeleteIf(ctx, key, v2), core.ErrNotFound)
}

func testCondExpiry(t *testing.T, b core.Conditional, key string) {
	ctx := context.Background()
	mustSet(t, b, key, []byte("v1"), time.Hour)
	v := getVersion(t, b, key, []byte("v1"))
	if err := b.SetIf(ctx, key, v, []byte("short"), time.Second); err != nil {
		t.Fatalf("SetIf: %v", err)
	}
	short := getVersion(t, b, key, []byte("short"))
	time.Sleep(2100 * time.Millisecond)
	wantAbsent(t, b, key)
	wantErr(t, "SetIf of an expired key", b.SetIf(ctx, key, short, []byte("revived"), time.Hour), core.ErrNotFound)
	wantAbsent(t, b, key)
	if err := b.SetIf(ctx, key, nil, []byte("new"), time.Hour); err != nil {
		t.Fatalf("SetIf(nil) over an expired key: %v", err)
	}
	wantValue(t, b, key, []byte("new"))
}

func testCondCanceled(t *testing.T, b core.Conditional, key string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.SetIf(ctx, key, nil, []byte("x"), time.Hour); err == nil {
		t.Error("SetIf with a canceled context succeeded")
	}
	if _, _, err := b.GetVersion(ctx, key); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Errorf("GetVersion with a canceled context: err = %v, want a context error", err)
	}
	wantAbsent(t, b, key)
}

// testCondRaceCreate starts many creates of one key at once: exactly one
// may win.
func testCondRaceCreate(t *testing.T, b core.Conditional, key string) {
	const workers = 16
	t.Cleanup(func() { _ = b.Delete(context.Background(), key) })
	var won atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := b.SetIf(context.Background(), key, nil, []byte(strconv.Itoa(w)), time.Minute)
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, core.ErrConflict):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := won.Load(); n != 1 {
		t.Fatalf("%d concurrent creates of one key succeeded, want 1", n)
	}
}

// testCondRaceIncrement has goroutines increment one counter with
// read-then-conditional-write loops. A blind write loses increments.
func testCondRaceIncrement(t *testing.T, b core.Conditional, key string) {
	const workers, rounds = 8, 25
	ctx := context.Background()
	mustSet(t, b, key, []byte("0"), time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := increment(ctx, b, key); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantValue(t, b, key, []byte(strconv.Itoa(workers*rounds)))
}

func increment(ctx context.Context, b core.Conditional, key string) error {
	for {
		cur, v, err := b.GetVersion(ctx, key)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(cur))
		if err != nil {
			return fmt.Errorf("counter %q: %w", cur, err)
		}
		err = b.SetIf(ctx, key, v, []byte(strconv.Itoa(n+1)), time.Minute)
		if !errors.Is(err, core.ErrConflict) {
			return err
		}
	}
}

// testCondRaceDelete deletes a key while writers update it: once the delete
// has happened, no writer may bring the key back.
func testCondRaceDelete(t *testing.T, b core.Conditional, key string) {
	const workers = 8
	ctx := context.Background()
	mustSet(t, b, key, []byte("0"), time.Minute)
	var deleted atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100_000 {
				err := increment(ctx, b, key)
				if errors.Is(err, core.ErrNotFound) {
					return // deleted: the writer must give up
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- errors.New("a writer kept writing a deleted key")
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(20 * time.Millisecond)
		for {
			_, v, err := b.GetVersion(ctx, key)
			if err == nil {
				err = b.DeleteIf(ctx, key, v)
			}
			if err == nil {
				deleted.Store(true)
				return
			}
			if !errors.Is(err, core.ErrConflict) {
				errs <- fmt.Errorf("deleting: %w", err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !deleted.Load() {
		t.Fatal("the delete never succeeded")
	}
	wantAbsent(t, b, key)
}
