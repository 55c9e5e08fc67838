package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
)

var _ core.Conditional = (*Store)(nil)

// commandLog is a go-redis hook that records every command a client sends,
// to count round trips.
type commandLog struct {
	mu   sync.Mutex
	cmds [][]any
}

func (l *commandLog) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (l *commandLog) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		l.record(cmd)
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			l.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func (l *commandLog) record(cmd goredis.Cmder) {
	l.mu.Lock()
	defer l.mu.Unlock()
	args := slices.Clone(cmd.Args())
	for i, arg := range args {
		if b, ok := arg.([]byte); ok {
			args[i] = string(b) // readable in messages, and counted the same
		}
	}
	l.cmds = append(l.cmds, args)
}

// take returns the commands recorded since the last take and forgets them.
func (l *commandLog) take() [][]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	cmds := l.cmds
	l.cmds = nil
	return cmds
}

// names returns the lower-case names of cmds.
func names(cmds [][]any) []string {
	var out []string
	for _, args := range cmds {
		out = append(out, strings.ToLower(fmt.Sprint(args[0])))
	}
	return out
}

// TestOneCommandPerCall counts the commands each method sends once the
// scripts are in the server's cache: exactly one for a read, and one for a
// write whether it succeeds or fails.
func TestOneCommandPerCall(t *testing.T) {
	for name, client := range map[string]func(testing.TB) goredis.UniversalClient{
		"standalone": func(t testing.TB) goredis.UniversalClient { return standaloneClient(t) },
		"cluster":    func(t testing.TB) goredis.UniversalClient { return clusterClient(t) },
	} {
		t.Run(name, func(t *testing.T) { testOneCommandPerCall(t, client(t)) })
	}
}

func testOneCommandPerCall(t *testing.T, client goredis.UniversalClient) {
	log := &commandLog{}
	client.AddHook(log)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "count")
	warmScripts(t, store, key)
	log.take()

	var version core.Version
	steps := []struct {
		name string
		run  func() error
		want string // the one command expected
		err  error  // the error expected, if any
	}{
		{"GetVersion of an absent key", func() error { _, _, err := store.GetVersion(ctx, key); return err }, "get", core.ErrNotFound},
		{"SetIf(nil)", func() error { return store.SetIf(ctx, key, nil, []byte("v1"), time.Hour) }, "set", nil},
		{"SetIf(nil) of an existing key", func() error { return store.SetIf(ctx, key, nil, []byte("x"), time.Hour) }, "set", core.ErrConflict},
		{"GetVersion", func() (err error) { _, version, err = store.GetVersion(ctx, key); return err }, "get", nil},
		{"SetIf", func() error { return store.SetIf(ctx, key, version, []byte("v2"), time.Hour) }, "evalsha", nil},
		{"SetIf with a stale version", func() error { return store.SetIf(ctx, key, version, []byte("x"), time.Hour) }, "evalsha", core.ErrConflict},
		{"DeleteIf with a stale version", func() error { return store.DeleteIf(ctx, key, version) }, "evalsha", core.ErrConflict},
		{"GetVersion again", func() (err error) { _, version, err = store.GetVersion(ctx, key); return err }, "get", nil},
		{"SetIf without expiry", func() error { return store.SetIf(ctx, key, version, []byte("v2"), 0) }, "evalsha", nil},
		{"DeleteIf", func() error { return store.DeleteIf(ctx, key, version) }, "evalsha", nil},
		{"DeleteIf of an absent key", func() error { return store.DeleteIf(ctx, key, version) }, "evalsha", core.ErrNotFound},
		{"SetIf of an absent key", func() error { return store.SetIf(ctx, key, version, []byte("x"), time.Hour) }, "evalsha", core.ErrNotFound},
		{"Get", func() error { _, err := store.Get(ctx, key); return err }, "get", core.ErrNotFound},
		{"Set", func() error { return store.Set(ctx, key, []byte("v"), time.Hour) }, "set", nil},
		{"Touch", func() error { return store.Touch(ctx, key, time.Hour) }, "pexpire", nil},
		{"Delete", func() error { return store.Delete(ctx, key) }, "del", nil},
	}
	for _, step := range steps {
		err := step.run()
		if step.err == nil && err != nil || step.err != nil && !errors.Is(err, step.err) {
			t.Fatalf("%s: err = %v, want %v", step.name, err, step.err)
		}
		if got := names(log.take()); !slices.Equal(got, []string{step.want}) {
			t.Errorf("%s sent %q, want exactly [%s]", step.name, got, step.want)
		}
	}
}

// warmScripts runs both scripts once on the server that holds key, so that
// later calls find them cached (EVALSHA without the EVAL fallback).
func warmScripts(t *testing.T, store *Store, key string) {
	t.Helper()
	ctx := context.Background()
	if err := store.SetIf(ctx, key, core.Version("warm"), nil, time.Second); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("warming SetIf: %v", err)
	}
	if err := store.DeleteIf(ctx, key, core.Version("warm")); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("warming DeleteIf: %v", err)
	}
}

// TestCreateCommand checks what SetIf(nil) sends: SET NX with the lifetime,
// or without one when ttl <= 0.
func TestCreateCommand(t *testing.T) {
	client := standaloneClient(t)
	log := &commandLog{}
	client.AddHook(log)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "create")
	for _, tc := range []struct {
		ttl  time.Duration
		want string
	}{
		{1500 * time.Millisecond, "[set " + key + " v px 1500 nx]"},
		{time.Hour, "[set " + key + " v ex 3600 nx]"},
		{0, "[set " + key + " v nx]"},
		{-time.Second, "[set " + key + " v nx]"},
	} {
		if err := store.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		log.take()
		if err := store.SetIf(ctx, key, nil, []byte("v"), tc.ttl); err != nil {
			t.Fatalf("SetIf(nil, ttl %v): %v", tc.ttl, err)
		}
		cmds := log.take()
		if len(cmds) != 1 || fmt.Sprint(cmds[0]) != tc.want {
			t.Errorf("SetIf(nil, ttl %v) sent %v, want %s", tc.ttl, cmds, tc.want)
		}
		wantPTTL(t, client, key, lifetime(tc.ttl))
	}
}

// wantPTTL checks the remaining lifetime of key: about want, or none (-1)
// when want is 0.
func wantPTTL(t *testing.T, client goredis.UniversalClient, key string, want time.Duration) {
	t.Helper()
	got := client.PTTL(context.Background(), key).Val()
	switch {
	case want == 0 && got != -1:
		t.Fatalf("PTTL(%q) = %v, want -1 (no expiry)", key, got)
	case want > 0 && (got > want || got < want-time.Second):
		t.Fatalf("PTTL(%q) = %v, want about %v", key, got, want)
	}
}

// TestSetIfExpiry checks the lifetime a conditional write leaves: PX in
// whole milliseconds rounded up, or none at all (an earlier expiry dropped)
// when ttl <= 0.
func TestSetIfExpiry(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "ttl")
	if err := store.Set(ctx, key, []byte("v0"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for i, ttl := range []time.Duration{1500*time.Millisecond + time.Microsecond, 0, 90 * time.Minute, -time.Hour} {
		_, version, err := store.GetVersion(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetIf(ctx, key, version, fmt.Appendf(nil, "v%d", i+1), ttl); err != nil {
			t.Fatalf("SetIf(ttl %v): %v", ttl, err)
		}
		wantPTTL(t, client, key, lifetime(ttl))
		if ttl > 0 && ttl < time.Hour {
			if pttl := client.PTTL(ctx, key).Val(); pttl <= 1400*time.Millisecond || pttl > 1501*time.Millisecond {
				t.Fatalf("PTTL after SetIf(1.500001s) = %v, want about 1.501s", pttl)
			}
		}
	}
}

// TestQuartSessionBlindWrite is a Quart-Session peer saving the same key
// with SETEX between a GetVersion and the conditional write: the write and
// the delete must fail with ErrConflict and leave the peer's value and
// lifetime alone. This is what a blind overwrite would get wrong.
func TestQuartSessionBlindWrite(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "session:blind")
	ours := []byte(`{"_permanent": true, "cart": 1}`)
	peers := []byte(`{"_permanent": true, "cart": 2}`) // same length, one byte differs
	if err := client.Do(ctx, "SETEX", key, 3600, ours).Err(); err != nil {
		t.Fatal(err)
	}
	_, version, err := store.GetVersion(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Do(ctx, "SETEX", key, 600, peers).Err(); err != nil {
		t.Fatal(err)
	}
	if err := store.SetIf(ctx, key, version, []byte(`{"cart": 9}`), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf after the peer's SETEX = %v, want ErrConflict", err)
	}
	if err := store.DeleteIf(ctx, key, version); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("DeleteIf after the peer's SETEX = %v, want ErrConflict", err)
	}
	if got := client.Get(ctx, key).Val(); got != string(peers) {
		t.Fatalf("GET = %q, want the peer's %q", got, peers)
	}
	wantPTTL(t, client, key, 600*time.Second)

	// Re-read, as the Manager does on a conflict: now the write goes through.
	_, version, err = store.GetVersion(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetIf(ctx, key, version, []byte(`{"cart": 3}`), time.Hour); err != nil {
		t.Fatalf("SetIf after re-reading: %v", err)
	}

	// A peer that saves back the very bytes that were read loses nothing,
	// so that is not a conflict.
	_, version, err = store.GetVersion(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Do(ctx, "SETEX", key, 600, []byte(`{"cart": 3}`)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := store.SetIf(ctx, key, version, []byte(`{"cart": 4}`), time.Hour); err != nil {
		t.Fatalf("SetIf after an identical rewrite: %v", err)
	}
}

// TestLargeValueSendsDigest checks that a conditional write of a large
// session sends the expected value as a 40-character digest, not a second
// copy of the session, and still tells values that differ in one byte apart.
func TestLargeValueSendsDigest(t *testing.T) {
	client := standaloneClient(t)
	log := &commandLog{}
	client.AddHook(log)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "large")
	old := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	if err := store.SetIf(ctx, key, nil, old, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, version, err := store.GetVersion(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	neighbour := slices.Clone(old)
	neighbour[len(neighbour)/2] ^= 1
	if err := store.SetIf(ctx, key, core.Version(neighbour), []byte("x"), time.Minute); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf with a version one bit off = %v, want ErrConflict", err)
	}
	log.take()
	updated := append(slices.Clone(old), '!')
	if err := store.SetIf(ctx, key, version, updated, time.Minute); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, cmd := range log.take() {
		for _, arg := range cmd {
			if s, ok := arg.(string); ok {
				sent += len(s)
			}
		}
	}
	if limit := len(updated) + 200; sent > limit {
		t.Fatalf("SetIf sent %d bytes of arguments for a %d-byte value, want at most %d", sent, len(updated), limit)
	}
	if got, err := store.Get(ctx, key); err != nil || !bytes.Equal(got, updated) {
		t.Fatalf("Get = %d bytes, %v; want the %d bytes written", len(got), err, len(updated))
	}
}

// TestBinaryAndEmptyValues checks versions of values Lua must keep byte for
// byte: NUL bytes, invalid UTF-8, and the empty value, which exists and so
// differs from an absent key.
func TestBinaryAndEmptyValues(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "binary")
	values := [][]byte{[]byte("\x00\xff\x00pickle\x80\x04"), {}, []byte("\x00\xff\x00pickle\x80\x05"), {}}
	if err := store.SetIf(ctx, key, nil, values[0], time.Minute); err != nil {
		t.Fatal(err)
	}
	for i, next := range values[1:] {
		got, version, err := store.GetVersion(ctx, key)
		if err != nil || !bytes.Equal(got, values[i]) {
			t.Fatalf("GetVersion = %q, %v; want %q", got, err, values[i])
		}
		if version == nil {
			t.Fatal("GetVersion of an existing key returned a nil version, which means absent")
		}
		if err := store.SetIf(ctx, key, version, next, time.Minute); err != nil {
			t.Fatalf("SetIf %q -> %q: %v", values[i], next, err)
		}
	}
	if err := store.SetIf(ctx, key, nil, []byte("x"), time.Minute); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf(nil) over an empty value = %v, want ErrConflict", err)
	}
	if err := store.DeleteIf(ctx, key, core.Version("\x00")); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("DeleteIf of an empty value with version NUL = %v, want ErrConflict", err)
	}
	if err := store.DeleteIf(ctx, key, core.Version{}); err != nil {
		t.Fatalf("DeleteIf of an empty value: %v", err)
	}
}

// TestVersionIsACopy checks that a caller modifying the value GetVersion
// returned does not change the version.
func TestVersionIsACopy(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "copy")
	if err := store.Set(ctx, key, []byte("original"), time.Minute); err != nil {
		t.Fatal(err)
	}
	value, version, err := store.GetVersion(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	copy(value, "modified")
	value = append(value, "and grown"...)
	if string(version) != "original" {
		t.Fatalf("version = %q after the value was modified to %q", version, value)
	}
	if err := store.SetIf(ctx, key, version, value, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteIfNilVersion checks that a nil version, which stands for an
// absent key, never deletes anything.
func TestDeleteIfNilVersion(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "nil")
	if err := store.DeleteIf(ctx, key, nil); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("DeleteIf(nil) of an absent key = %v, want ErrNotFound", err)
	}
	if err := store.Set(ctx, key, nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteIf(ctx, key, nil); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("DeleteIf(nil) of an existing key = %v, want ErrConflict", err)
	}
	if n := client.Exists(ctx, key).Val(); n != 1 {
		t.Fatal("DeleteIf(nil) deleted the key")
	}
}

// TestConditionalWrongType checks that a key holding another Redis type is
// reported as an error, neither as absent nor overwritten.
func TestConditionalWrongType(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "list")
	if err := client.RPush(ctx, key, "item").Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.GetVersion(ctx, key); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Errorf("GetVersion of a list = %v, want a WRONGTYPE error", err)
	}
	if err := store.SetIf(ctx, key, core.Version("item"), []byte("v"), time.Minute); err == nil ||
		errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict) {
		t.Errorf("SetIf of a list = %v, want a WRONGTYPE error", err)
	}
	if err := store.DeleteIf(ctx, key, core.Version("item")); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Errorf("DeleteIf of a list = %v, want a WRONGTYPE error", err)
	}
	if err := store.SetIf(ctx, key, nil, []byte("v"), time.Minute); !errors.Is(err, core.ErrConflict) {
		t.Errorf("SetIf(nil) of a list = %v, want ErrConflict", err)
	}
	if typ := client.Type(ctx, key).Val(); typ != "list" {
		t.Fatalf("the key is now a %s, want the list left alone", typ)
	}
}

// TestClusterConditionalOnSeveralMasters runs the conditional writes on keys
// spread over the Cluster's masters: each script names its one key, so the
// client routes it to the master of that key's slot.
func TestClusterConditionalOnSeveralMasters(t *testing.T) {
	client := clusterClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	prefix := testKey(t, client, "cond-spread") + ":"
	const n = 30
	var keys []string
	for i := range n {
		key := fmt.Sprintf("%s%02d", prefix, i)
		t.Cleanup(func() { _ = store.Delete(context.Background(), key) })
		keys = append(keys, key)
		if err := store.SetIf(ctx, key, nil, []byte("v1"), time.Minute); err != nil {
			t.Fatal(err)
		}
		_, version, err := store.GetVersion(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetIf(ctx, key, version, []byte("v2"), time.Minute); err != nil {
			t.Fatalf("SetIf(%q): %v", key, err)
		}
		if err := store.SetIf(ctx, key, version, []byte("v3"), time.Minute); !errors.Is(err, core.ErrConflict) {
			t.Fatalf("SetIf(%q) with a stale version = %v, want ErrConflict", key, err)
		}
	}
	wantSpread(t, client, prefix)
	for _, key := range keys {
		if err := store.DeleteIf(ctx, key, core.Version("v2")); err != nil {
			t.Fatalf("DeleteIf(%q): %v", key, err)
		}
	}
	if got := collect(t, store, prefix); len(got) != 0 {
		t.Fatalf("after DeleteIf, Keys = %q, want none", got)
	}
}
