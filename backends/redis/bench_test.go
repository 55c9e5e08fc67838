package redis

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
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
	store := New(client, Options{})
	ctx := context.Background()
	key := testKey(b, client, "bench-setif")
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

// BenchmarkSessionWrites: 50 goroutines saving one session on the
// standalone server, conditional (the default) against the blind
// last-save-wins write.
func BenchmarkSessionWrites(b *testing.B) {
	store := New(standaloneClient(b), Options{})
	b.Run("Conditional", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, store) })
	b.Run("Blind", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, backendtest.Plain(store)) })
}
