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

// defaultCleanupInterval is the CleanupInterval used when none is given. It
// matches the period of MongoDB's own TTL monitor.
const defaultCleanupInterval = time.Minute

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
	// CleanupInterval is how often the store deletes expired documents
	// itself when the server refused the TTL index (servers that implement
	// the MongoDB protocol without TTL indexes, such as FerretDB 1.x). Zero
	// means one minute; a negative value disables the clean-up, leaving it
	// to Purge. It has no effect when the TTL index exists
	// (MongoDB then removes expired documents itself) or SkipIndexes is set
	// (the deployment's own TTL index is expected to).
	CleanupInterval time.Duration
	// Logger receives warnings: a missing TTL index, a server whose writes
	// the store has to serialize (FerretDB 1.x), every failed background
	// clean-up. Nil means slog.Default().
	Logger *slog.Logger
}
