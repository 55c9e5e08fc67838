package mongodb

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// countedStore returns a Store on a fresh collection whose client reaches
// the test server through a backendtest.Proxy, which counts what is
// sent. The client talks to that one server directly and sends no
// heartbeats in between (a heartbeat interval of a minute), so that the
// count is the store's commands.
func countedStore(t testing.TB) (*Store, *backendtest.Proxy) {
	t.Helper()
	testClient(t) // skips when the server is down
	u, err := url.Parse(testURI())
	if err != nil {
		t.Fatal(err)
	}
	p := backendtest.StartProxy(t, u.Host)
	u.Host = p.Addr
	opts := options.Client().ApplyURI(u.String()).SetDirect(true).
		SetHeartbeatInterval(time.Minute).SetServerSelectionTimeout(3 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return newTestStoreOn(t, freshCollection(t, client), Options{CleanupInterval: -1}), p
}

// sentValues are two values of size bytes that differ in every byte.
func sentValues(size int) [2][]byte {
	v := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	return [2][]byte{v, bytes.ToUpper(v)}
}

// TestConditionalSendsValueOnce measures, through a counting proxy, what a
// conditional write of a 64 KiB value sends to the server: the new value
// once and a digest of the old one, not the old value again.
func TestConditionalSendsValueOnce(t *testing.T) {
	s, p := countedStore(t)
	ctx := context.Background()
	values := sentValues(64 << 10)
	if err := s.Set(ctx, "k", values[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	_, v, err := s.GetVersion(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	p.Sent()
	if err := s.SetIf(ctx, "k", v, values[1], time.Hour); err != nil {
		t.Fatal(err)
	}
	sent := p.Sent()
	t.Logf("SetIf of %d bytes sent %d bytes", len(values[1]), sent)
	if n := int64(len(values[1])); sent < n || sent >= n*5/4 {
		t.Errorf("SetIf of %d bytes sent %d bytes, want at least the value and under 1.25 times it", n, sent)
	}
	if _, v, err = s.GetVersion(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	p.Sent()
	if err := s.DeleteIf(ctx, "k", v); err != nil {
		t.Fatal(err)
	}
	sent = p.Sent()
	t.Logf("DeleteIf sent %d bytes", sent)
	if n := int64(len(values[1])); sent >= n/4 {
		t.Errorf("DeleteIf of a %d-byte value sent %d bytes, want under a quarter of it", n, sent)
	}
}

// BenchmarkSetIfSent measures, through a counting proxy, the bytes a
// conditional write sends to the server (sent-B/op) with values of 4 KiB
// and 64 KiB, each write with the version of the one before it, as the
// Manager knows it from VersionOf.
func BenchmarkSetIfSent(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s, p := countedStore(b)
			ctx := context.Background()
			values := sentValues(size)
			if err := s.Set(ctx, "bench", values[0], time.Hour); err != nil {
				b.Fatal(err)
			}
			p.Sent()
			i := 0
			for b.Loop() {
				if err := s.SetIf(ctx, "bench", s.VersionOf(values[i%2]), values[(i+1)%2], time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(p.Sent())/float64(i), "sent-B/op")
		})
	}
}
