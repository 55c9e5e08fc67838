package mongodb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestUnreachable points the store at a loopback port nothing listens on:
// Open and every operation must fail promptly with a wrapped error, never
// ErrNotFound, a panic or a hang past the deadline.
func TestUnreachable(t *testing.T) {
	uri := "mongodb://" + backendtest.ClosedAddr(t) + "/"
	short := options.Client().SetServerSelectionTimeout(300 * time.Millisecond)

	t.Run("Open", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		s, err := Open(ctx, uri, Options{ClientOptions: short})
		if err == nil {
			_ = s.Close()
			t.Fatal("Open against a closed port succeeded")
		}
		if took := time.Since(start); took > 2500*time.Millisecond {
			t.Errorf("Open took %v", took)
		}
		if !strings.HasPrefix(err.Error(), "mongodb: ") {
			t.Errorf("error %q does not name the backend", err)
		}
		t.Logf("Open: %v", err)
	})

	t.Run("Operations", func(t *testing.T) {
		// The driver's default server selection timeout is 30s: the
		// context deadline alone must bound each call.
		client, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			t.Fatal(err)
		}
		// Cleanup, not defer: the parallel subtests run after this
		// function returns.
		t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
		coll := client.Database("x").Collection("y")
		ops := map[string]func(context.Context) error{
			"New": func(ctx context.Context) error {
				_, err := New(ctx, coll, Options{SkipIndexes: true})
				return err
			},
		}
		// Every operation, on a store as New makes it for MongoDB and on
		// one with the write locks and leases used on FerretDB 1.x.
		plain, locked := newStore(coll, Options{}), newStore(coll, Options{})
		locked.locks = newWriteLocks(coll)
		for name, op := range storeOps(plain) {
			ops[name] = op
		}
		for name, op := range storeOps(locked) {
			ops[name+" (locked)"] = op
		}
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				t.Parallel() // each waits out its deadline
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				defer cancel()
				start := time.Now()
				err := op(ctx)
				took := time.Since(start)
				switch {
				case err == nil:
					t.Error("succeeded against a closed port")
				case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrConflict):
					t.Errorf("%v, which claims to know the key", err)
				case !strings.HasPrefix(err.Error(), "mongodb: "):
					t.Errorf("error %q does not name the backend", err)
				}
				if took > 1500*time.Millisecond {
					t.Errorf("took %v with a 500ms deadline", took)
				}
			})
		}
	})
}

// storeOps calls every method of s that talks to the server.
func storeOps(s *Store) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"Get":    func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
		"Set":    func(ctx context.Context) error { return s.Set(ctx, "k", []byte("v"), time.Minute) },
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
		"Touch":  func(ctx context.Context) error { return s.Touch(ctx, "k", time.Minute) },
		"GetVersion": func(ctx context.Context) error {
			_, _, err := s.GetVersion(ctx, "k")
			return err
		},
		"SetIf": func(ctx context.Context) error {
			return s.SetIf(ctx, "k", s.VersionOf([]byte("v")), []byte("w"), time.Minute)
		},
		"SetIf(nil)":    func(ctx context.Context) error { return s.SetIf(ctx, "k", nil, []byte("w"), time.Minute) },
		"DeleteIf":      func(ctx context.Context) error { return s.DeleteIf(ctx, "k", s.VersionOf([]byte("v"))) },
		"DeleteIf(nil)": func(ctx context.Context) error { return s.DeleteIf(ctx, "k", nil) },
		"Purge":         func(ctx context.Context) error { _, err := s.Purge(ctx); return err },
		"Keys": func(ctx context.Context) error {
			for _, err := range s.Keys(ctx, "") {
				return err
			}
			return errors.New("Keys yielded nothing")
		},
	}
}
