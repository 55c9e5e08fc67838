package memcached

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// benchValue is about the size of a small encoded session.
var benchValue = bytes.Repeat([]byte("0123456789"), 20)

const benchKey = "cloakroombench:session"

// benchStore and benchClient both talk to the first test server only, with
// the same client settings, so the ratio shows the Store's own cost.
func benchSetup(b *testing.B) (*Store, *memcache.Client) {
	addr := serverAddrs()[0]
	requireServers(b, []string{addr})
	s, err := Open(context.Background(), addr, Options{})
	if err != nil {
		b.Fatal(err)
	}
	raw := memcache.New(addr)
	raw.MaxIdleConns = DefaultMaxIdleConns
	b.Cleanup(func() { _ = s.Close(); _ = raw.Close() })
	if err := raw.Set(&memcache.Item{Key: benchKey, Value: benchValue, Expiration: 3600}); err != nil {
		b.Fatal(err)
	}
	return s, raw
}

func BenchmarkGet(b *testing.B) {
	s, _ := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, benchKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawGet(b *testing.B) {
	_, raw := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := raw.Get(benchKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	s, _ := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Set(ctx, benchKey, benchValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawSet(b *testing.B) {
	_, raw := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := raw.Set(&memcache.Item{Key: benchKey, Value: benchValue, Expiration: 3600}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetVersion is the Manager's read: one gets, like BenchmarkGet.
func BenchmarkGetVersion(b *testing.B) {
	s, _ := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.GetVersion(ctx, benchKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadSetIf is a read and a conditional save, two round trips;
// compare it with BenchmarkRawGet plus BenchmarkRawSet.
func BenchmarkReadSetIf(b *testing.B) {
	s, _ := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, v, err := s.GetVersion(ctx, benchKey)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.SetIf(ctx, benchKey, v, benchValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
