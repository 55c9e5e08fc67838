package mongodb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestOpenTimeouts checks the timeouts of the client Open makes, and the
// bound of each call of its Store: Open's defaults, overridden by the URI,
// then by ClientOptions; Options.Timeout sets the client's default and the
// Store's bound, and a negative one sets neither.
func TestOpenTimeouts(t *testing.T) {
	const uri = "mongodb://127.0.0.1:27017/"
	for _, c := range []struct {
		name                  string
		uri                   string
		opts                  Options
		client, connect, call time.Duration // zero: not set
	}{
		{"defaults", uri, Options{}, DefaultTimeout, DefaultConnectTimeout, DefaultTimeout},
		{"URI", uri + "?timeoutMS=5000&connectTimeoutMS=1000", Options{}, 5 * time.Second, time.Second, 5 * time.Second},
		{"ClientOptions", uri + "?timeoutMS=5000", Options{ClientOptions: options.Client().SetTimeout(3 * time.Second)}, 3 * time.Second, DefaultConnectTimeout, 3 * time.Second},
		{"Timeout", uri, Options{Timeout: 700 * time.Millisecond}, 700 * time.Millisecond, DefaultConnectTimeout, 700 * time.Millisecond},
		{"Timeout and URI", uri + "?timeoutMS=5000", Options{Timeout: 700 * time.Millisecond}, 5 * time.Second, DefaultConnectTimeout, 700 * time.Millisecond},
		{"negative Timeout", uri, Options{Timeout: -1}, 0, DefaultConnectTimeout, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			co := c.opts.clientOptions(c.uri)
			if got := deref(co.Timeout); got != c.client {
				t.Errorf("client timeout = %v, want %v", got, c.client)
			}
			if got := deref(co.ConnectTimeout); got != c.connect {
				t.Errorf("connect timeout = %v, want %v", got, c.connect)
			}
			if got := c.opts.storeTimeout(co); got != c.call {
				t.Errorf("bound of each call = %v, want %v", got, c.call)
			}
		})
	}
}

func deref(d *time.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return *d
}

// TestTimeoutBoundsLockWait: a write waiting for its key's stripe
// (FerretDB 1.x) with a context that has no deadline gives up at the
// Store's timeout, before it sends anything.
func TestTimeoutBoundsLockWait(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s := newStore(client.Database("x").Collection("y"), Options{Timeout: 200 * time.Millisecond})
	s.locks = newWriteLocks(s.coll)
	stripe := s.locks.stripe("busy")
	stripe <- struct{}{} // another write of this Store holds the key
	defer func() { <-stripe }()
	o := backendtest.Timed(func(ctx context.Context) error { return s.SetIf(ctx, "busy", nil, []byte("v"), time.Minute) })
	took, err := o.Took, o.Err
	if !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
		t.Fatalf("SetIf while its key is locked: %v after %v, want DeadlineExceeded after 200ms", err, took)
	}
}
