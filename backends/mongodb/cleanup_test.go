package mongodb

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// recordHandler is a slog.Handler that hands every record to a channel.
type recordHandler chan slog.Record

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h recordHandler) WithGroup(string) slog.Handler            { return h }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r:
	default: // the test has seen enough
	}
	return nil
}

// TestCleanupFailureLogged runs the background clean-up against a server
// that does not answer: each failure must reach the Logger as a warning.
func TestCleanupFailureLogged(t *testing.T) {
	client, err := mongo.Connect(options.Client().
		ApplyURI("mongodb://" + backendtest.ClosedAddr(t) + "/").
		SetServerSelectionTimeout(100 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	records := make(recordHandler, 16)
	s := newStore(client.Database("x").Collection("y"), Options{Logger: slog.New(records)})
	s.startCleanup(20 * time.Millisecond)
	defer func() { _ = s.Close() }()

	select {
	case r := <-records:
		if r.Level != slog.LevelWarn || !strings.Contains(r.Message, "expired sessions failed") {
			t.Fatalf("logged %v %q, want a warning about the failed clean-up", r.Level, r.Message)
		}
		var logged string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				logged = a.Value.String()
			}
			return true
		})
		if !strings.HasPrefix(logged, "mongodb: purge: ") {
			t.Errorf("logged err %q, want Purge's error", logged)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no failure logged within 5s")
	}
}
