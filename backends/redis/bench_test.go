package redis

import (
	"bytes"
	"context"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
	goredis "github.com/redis/go-redis/v9"
)

// The benchmarks compare the Store with go-redis doing the same single GET
// or SET of the same ~200-byte value on the standalone server, so that the
// backend layer's overhead shows as a ratio.

var benchValue = bytes.Repeat([]byte("s"), 200)

func BenchmarkGet(b *testing.B) { benchmarkGet(b, Options{}, "bench-get") }

// BenchmarkGetBounded is BenchmarkGet with the per-call bound a Store made
// by Open has (DefaultTimeout): the cost of its context and timer.
func BenchmarkGetBounded(b *testing.B) {
	benchmarkGet(b, Options{Timeout: DefaultTimeout}, "bench-get-bounded")
}

// benchmarkGet reads a stored value under key name through a Store made
// with opts.
func benchmarkGet(b *testing.B, opts Options, name string) {
	client := standaloneClient(b)
	store := New(client, opts)
	ctx := context.Background()
	key := testKey(b, client, name)
	if err := client.Set(ctx, key, benchValue, time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawGet(b *testing.B) {
	client := standaloneClient(b)
	ctx := context.Background()
	key := testKey(b, client, "bench-rawget")
	if err := client.Set(ctx, key, benchValue, time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Get(ctx, key).Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	client := standaloneClient(b)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(b, client, "bench-set")
	b.ReportAllocs()
	for b.Loop() {
		if err := store.Set(ctx, key, benchValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawSet(b *testing.B) {
	client := standaloneClient(b)
	ctx := context.Background()
	key := testKey(b, client, "bench-rawset")
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Set(ctx, key, benchValue, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetVersion(b *testing.B) {
	client := standaloneClient(b)
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(b, client, "bench-getversion")
	if err := client.Set(ctx, key, benchValue, time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := store.GetVersion(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetIf is a save of a session that changed since it was read: one
// EVALSHA that compares digests and SETs, alternating between two values.
func BenchmarkSetIf(b *testing.B) {
	client := standaloneClient(b)
	benchSetIf(b, client, New(client, Options{}), testKey(b, client, "bench-setif"))
}

// benchSetIf stores a value under key through client, then has store
// replace it conditionally, alternating between two values.
func benchSetIf(b *testing.B, client *goredis.Client, store *Store, key string) {
	ctx := context.Background()
	current, next := benchValue, bytes.Repeat([]byte("t"), len(benchValue))
	if err := client.Set(ctx, key, current, time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := store.SetIf(ctx, key, current, next, time.Hour); err != nil {
			b.Fatal(err)
		}
		current, next = next, current
	}
}

// BenchmarkSessionWrites: 50 goroutines incrementing one session on the
// standalone server, conditional (the default) against the blind
// last-save-wins write, and 50 goroutines on 50 sessions. roundtrips/op
// counts the commands the client sent.
func BenchmarkSessionWrites(b *testing.B) {
	client := standaloneClient(b)
	var commands commandCounter
	client.AddHook(&commands)
	store := New(client, Options{})
	b.Run("OneSession", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, store, 1, commands.Load) })
	b.Run("OneSessionBlind", func(b *testing.B) {
		backendtest.BenchmarkSessionWrites(b, backendtest.Plain(store), 1, commands.Load)
	})
	b.Run("50Sessions", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, store, 50, commands.Load) })
}

// commandCounter is a go-redis hook that counts the commands a client
// sends, each a round trip.
type commandCounter struct{ atomic.Int64 }

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.Add(1)
		return next(ctx, cmds)
	}
}

// BenchmarkSetIfWait measures what Options.WaitReplicas costs a save: a
// successful SetIf (EVALSHA) on a master with one replica, both started by
// the benchmark, without the option (NoWait) and with WaitReplicas 1, which
// adds WAIT 1 in the same round trip and so waits for the replica's
// acknowledgement. Compare the two ns/op of one run.
func BenchmarkSetIfWait(b *testing.B) {
	master := startOwnRedis(b, replicationArgs...)
	host, port, _ := net.SplitHostPort(master.addr)
	replica := startOwnRedis(b, append(slices.Clone(replicationArgs), "--replicaof", host, port)...)
	client := goredis.NewClient(&goredis.Options{Addr: master.addr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	// The replica counts once the master has its first acknowledgement.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n, err := client.Wait(ctx, 1, 100*time.Millisecond).Result()
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("replica %s not acknowledging within 10s: %d %v", replica.addr, n, err)
		}
	}
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"NoWait", Options{}},
		{"WaitReplicas1", Options{WaitReplicas: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchSetIf(b, client, New(client, bc.opts), "bench-setif-"+bc.name)
		})
	}
}
