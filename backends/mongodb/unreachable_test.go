package mongodb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestUnreachable points the store at a loopback port nothing listens on:
// Open and every operation must fail promptly with a wrapped error, never
// ErrNotFound, a panic or a hang past the deadline.
func TestUnreachable(t *testing.T) {
	uri := "mongodb://" + closedPort(t) + "/"
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
		defer func() { _ = client.Disconnect(context.Background()) }()
		s, err := New(context.Background(), client.Database("x").Collection("y"), Options{SkipIndexes: true})
		if err != nil {
			t.Fatal(err)
		}
		ops := map[string]func(context.Context) error{
			"Get":    func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
			"Set":    func(ctx context.Context) error { return s.Set(ctx, "k", []byte("v"), time.Minute) },
			"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
			"Touch":  func(ctx context.Context) error { return s.Touch(ctx, "k", time.Minute) },
			"Keys": func(ctx context.Context) error {
				for _, err := range s.Keys(ctx, "") {
					return err
				}
				return errors.New("Keys yielded nothing")
			},
		}
		for name, op := range ops {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			start := time.Now()
			err := op(ctx)
			cancel()
			took := time.Since(start)
			switch {
			case err == nil:
				t.Errorf("%s succeeded against a closed port", name)
			case errors.Is(err, core.ErrNotFound):
				t.Errorf("%s: %v, which claims the key is absent", name, err)
			case !strings.HasPrefix(err.Error(), "mongodb: "):
				t.Errorf("%s: error %q does not name the backend", name, err)
			}
			if took > 1500*time.Millisecond {
				t.Errorf("%s took %v with a 500ms deadline", name, took)
			}
		}
	})
}
