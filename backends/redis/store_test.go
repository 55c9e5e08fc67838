package redis

import (
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
	"github.com/cloakroom/cloakroom/core/backendtest"
)

var (
	_ core.Backend = (*Store)(nil)
	_ core.Toucher = (*Store)(nil)
	_ core.Lister  = (*Store)(nil)
	_ core.Expirer = (*Store)(nil)
)

func TestConformanceStandalone(t *testing.T) {
	backendtest.Run(t, New(standaloneClient(t), Options{}))
}

func TestConformanceCluster(t *testing.T) {
	backendtest.Run(t, New(clusterClient(t), Options{}))
}

func TestConformanceSentinel(t *testing.T) {
	backendtest.Run(t, New(sentinelClient(t), Options{}))
}

// TestConformanceUniversal builds the client the way an application that
// switches topologies by configuration does.
func TestConformanceUniversal(t *testing.T) {
	client := goredis.NewUniversalClient(&goredis.UniversalOptions{
		Addrs:                 clusterAddrs(),
		IsClusterMode:         true,
		ContextTimeoutEnabled: true,
	})
	reachable(t, "redis cluster at "+strings.Join(clusterAddrs(), ","), client)
	t.Cleanup(func() { _ = client.Close() })
	if _, ok := client.(*goredis.ClusterClient); !ok {
		t.Fatalf("NewUniversalClient gave %T, want a cluster client", client)
	}
	backendtest.Run(t, New(client, Options{}))
}

// TestClusterSpreadsKeys shows that keys land on several masters and that
// Keys finds them on all of them.
func TestClusterSpreadsKeys(t *testing.T) {
	client := clusterClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	prefix := testKey(t, client, "spread") + ":"
	const n = 50
	var want []string
	for i := range n {
		key := fmt.Sprintf("%s%02d", prefix, i)
		if err := store.Set(ctx, key, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Delete(context.Background(), key) })
		want = append(want, key)
	}
	t.Logf("keys per master: %v", wantSpread(t, client, prefix))
	got := collect(t, store, prefix)
	if !slices.Equal(got, want) {
		t.Fatalf("Keys found %d keys, want %d", len(got), len(want))
	}
}

func scanAll(ctx context.Context, c *goredis.Client, pattern string) ([]string, error) {
	var all []string
	iter := c.Scan(ctx, 0, pattern, 100).Iterator()
	for iter.Next(ctx) {
		all = append(all, iter.Val())
	}
	return all, iter.Err()
}

func collect(t *testing.T, store *Store, prefix string) []string {
	t.Helper()
	var got []string
	for key, err := range store.Keys(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("Keys(%q): %v", prefix, err)
		}
		got = append(got, key)
	}
	slices.Sort(got)
	return got
}

// TestSentinelWritesReachReplica checks that the failover client talks to
// the master Sentinel names, whose replica then holds the value too.
func TestSentinelWritesReachReplica(t *testing.T) {
	client := sentinelClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "replicated")
	if err := store.Set(ctx, key, []byte("copied"), time.Minute); err != nil {
		t.Fatal(err)
	}
	replicas := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:    sentinelMaster(),
		SentinelAddrs: sentinelAddrs(),
		ReplicaOnly:   true,
	})
	defer replicas.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := replicas.Get(ctx, key).Result()
		if err == nil && got == "copied" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica: Get = %q, %v; want the value written to the master", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSetExpiry checks the commands Set sends: a PX lifetime in whole
// milliseconds rounded up, and a plain SET that drops an earlier expiry.
func TestSetExpiry(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "ttl")
	if err := store.Set(ctx, key, []byte("v"), 1500*time.Millisecond+time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if pttl := client.PTTL(ctx, key).Val(); pttl <= 1400*time.Millisecond || pttl > 1501*time.Millisecond {
		t.Fatalf("PTTL after Set(1.500001s) = %v, want about 1.501s", pttl)
	}
	for _, ttl := range []time.Duration{0, -1, -time.Hour} {
		if err := store.Set(ctx, key, []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := store.Set(ctx, key, []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
		if pttl := client.PTTL(ctx, key).Val(); pttl != -1 {
			t.Fatalf("PTTL after Set(ttl=%v) = %v, want -1 (no expiry)", ttl, pttl)
		}
	}
}

// TestQuartSessionInterop reads a value written the way Quart-Session
// writes it (SETEX in seconds) and writes one a SETEX reader gets back.
func TestQuartSessionInterop(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "session:abc")
	payload := []byte("\x80\x04\x95payload from python")
	if err := client.Do(ctx, "SETEX", key, 3600, payload).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, key)
	if err != nil || string(got) != string(payload) {
		t.Fatalf("Get = %q, %v; want %q", got, err, payload)
	}
	if err := store.Set(ctx, key, []byte("from go"), 31*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if v := client.Get(ctx, key).Val(); v != "from go" {
		t.Fatalf("GET = %q, want %q", v, "from go")
	}
	if ttl := client.TTL(ctx, key).Val(); ttl <= 30*24*time.Hour {
		t.Fatalf("TTL = %v, want about 31 days", ttl)
	}
}

func TestTouch(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(t, client, "touch")
	if err := store.Set(ctx, key, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := store.Touch(ctx, key, 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if pttl := client.PTTL(ctx, key).Val(); pttl <= 2*time.Second || pttl > 2500*time.Millisecond {
		t.Fatalf("PTTL after Touch(2.5s) = %v", pttl)
	}
	if err := store.Touch(ctx, key, 0); err != nil {
		t.Fatalf("Touch(0): %v", err)
	}
	if pttl := client.PTTL(ctx, key).Val(); pttl != -1 {
		t.Fatalf("PTTL after Touch(0) = %v, want -1 (no expiry)", pttl)
	}
	// A key that already had no expiry is still found.
	if err := store.Touch(ctx, key, -1); err != nil {
		t.Fatalf("Touch(-1) of a permanent key: %v", err)
	}
	for _, ttl := range []time.Duration{time.Minute, 0} {
		if err := store.Touch(ctx, key+":absent", ttl); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("Touch(absent, %v) = %v, want ErrNotFound", ttl, err)
		}
	}
}

// TestKeysEscapesGlob checks that glob characters in a prefix match only
// themselves.
func TestKeysEscapesGlob(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	base := testKey(t, client, "glob")
	prefix := base + `:a*b?c[d]e\f:`
	literal := []string{prefix + "1", prefix + "2"}
	decoys := []string{base + `:aXXbYc[d]e\f:1`, base + `:a*b?cde\f:1`, base + `:a*b?c[d]ef:1`}
	for _, k := range slices.Concat(literal, decoys) {
		if err := store.Set(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Delete(context.Background(), k) })
	}
	if got := collect(t, store, prefix); !slices.Equal(got, literal) {
		t.Fatalf("Keys(%q) = %q, want %q", prefix, got, literal)
	}
}

func TestKeysStopsEarly(t *testing.T) {
	client := standaloneClient(t)
	store := New(client, Options{})
	ctx := context.Background()
	prefix := testKey(t, client, "early") + ":"
	for i := range 5 {
		k := fmt.Sprint(prefix, i)
		if err := store.Set(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Delete(context.Background(), k) })
	}
	n := 0
	for _, err := range store.Keys(ctx, prefix) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatalf("loop ran %d times, want 1", n)
	}
}

func TestEscapeGlob(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"session:":      "session:",
		`a*b?c[d]e\f`:   `a\*b\?c\[d\]e\\f`,
		"caf\xe9*\xff":  "caf\xe9\\*\xff",
		"^not-special$": "^not-special$",
	} {
		if got := escapeGlob(in); got != want {
			t.Errorf("escapeGlob(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNilClient checks that a Store without a client fails cleanly.
func TestNilClient(t *testing.T) {
	store := New(nil, Options{})
	ctx := context.Background()
	if _, err := store.Get(ctx, "k"); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Errorf("Get: %v", err)
	}
	if err := store.Set(ctx, "k", nil, 0); err == nil {
		t.Error("Set succeeded")
	}
	if err := store.Delete(ctx, "k"); err == nil {
		t.Error("Delete succeeded")
	}
	if err := store.Touch(ctx, "k", time.Second); err == nil {
		t.Error("Touch succeeded")
	}
	if _, _, err := store.GetVersion(ctx, "k"); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Errorf("GetVersion: %v", err)
	}
	if err := store.SetIf(ctx, "k", nil, nil, 0); err == nil {
		t.Error("SetIf succeeded")
	}
	if err := store.DeleteIf(ctx, "k", core.Version("v")); err == nil {
		t.Error("DeleteIf succeeded")
	}
	for _, err := range store.Keys(ctx, "") {
		if err == nil {
			t.Error("Keys yielded no error")
		}
	}
	if err := store.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestCloseLeavesCallersClientOpen(t *testing.T) {
	client := standaloneClient(t)
	if err := New(client, Options{}).Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("client closed by Store.Close: %v", err)
	}
}

// wantSpread fails the test unless the keys under prefix sit on at least
// two of the Cluster's masters, so that a test of them crosses slots; it
// returns how many each master holds.
func wantSpread(t *testing.T, client *goredis.ClusterClient, prefix string) map[string]int {
	t.Helper()
	var mu sync.Mutex
	perMaster := map[string]int{}
	err := client.ForEachMaster(context.Background(), func(ctx context.Context, m *goredis.Client) error {
		keys, err := scanAll(ctx, m, escapeGlob(prefix)+"*")
		mu.Lock()
		defer mu.Unlock()
		perMaster[m.Options().Addr] = len(keys)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, c := range perMaster {
		if c > 0 {
			used++
		}
	}
	if used < 2 {
		t.Fatalf("keys per master = %v, want keys on at least 2 masters", perMaster)
	}
	return perMaster
}
