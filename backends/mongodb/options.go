package mongodb

import (
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Default names used by Open when neither the URI path nor Options name a
// database or collection.
const (
	DefaultDatabase   = "cloakroom"
	DefaultCollection = "sessions"
)

// defaultSweepInterval matches MongoDB's own TTL monitor period.
const defaultSweepInterval = time.Minute

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// Database names the database Open uses. Empty means the database in
	// the URI path, or DefaultDatabase when the URI has none. New ignores
	// it: the collection passed to New already belongs to a database.
	Database string
	// Collection names the collection Open uses. Empty means
	// DefaultCollection. New ignores it.
	Collection string
	// ClientOptions are applied by Open after the URI, for settings the URI
	// cannot carry (a custom dialer, monitors, credentials from a secret
	// store). New ignores it.
	ClientOptions *options.ClientOptions

	// SkipIndexes stops the store from creating its index on expires_at,
	// for deployments whose indexes are managed elsewhere (migrations,
	// restricted users). Such a deployment should create the TTL index
	// itself: {expires_at: 1} with expireAfterSeconds 0. Reads stay correct
	// without it; only the removal of expired documents depends on it.
	SkipIndexes bool
	// SweepInterval is how often the store deletes expired documents itself
	// when the server refused the TTL index (servers that implement the
	// MongoDB protocol without TTL indexes). Zero means one minute; a
	// negative value disables the sweep. It has no effect when the TTL
	// index exists or SkipIndexes is set.
	SweepInterval time.Duration
	// Logger receives warnings: a missing TTL index, failed sweeps. Nil
	// means slog.Default().
	Logger *slog.Logger
}
