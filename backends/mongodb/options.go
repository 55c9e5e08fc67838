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

// The timeouts Open gives its client where neither the URI nor
// Options.ClientOptions set them.
const (
	// DefaultTimeout is the client's operation timeout
	// (options.Client().SetTimeout, timeoutMS in a URI), and so the bound
	// of each call of the Store: short enough that a request whose server
	// stops answering gets its 503 within 2 seconds, long enough for any
	// session command on a live server. The driver applies it to server
	// selection, waiting for a pooled connection and the command itself.
	DefaultTimeout = 1500 * time.Millisecond
	// DefaultConnectTimeout bounds opening a connection (dial, TLS,
	// handshake, authentication) and is the socket timeout of the driver's
	// server monitoring (30 seconds by default). The driver opens
	// connections in the background, at most two at a time, for the
	// calls waiting for one: against a frozen server those attempts would
	// hold their places for 30 seconds, and the monitor would take as long
	// to notice.
	DefaultConnectTimeout = 5 * time.Second
)

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
	// the store has to lease (FerretDB 1.x), every failed background
	// clean-up. Nil means slog.Default().
	Logger *slog.Logger
	// Timeout bounds each call of the Store as a whole (Get, GetVersion,
	// Set, SetIf, Delete, DeleteIf, Touch: the wait for the key's lock and
	// lease on FerretDB 1.x and every command of the call), as a deadline
	// on its context when the caller's context has none sooner, so that a
	// server that stops answering fails the call instead of holding it. A
	// negative value sets no bound of the store's own. (On FerretDB 1.x the
	// commands a write sends under its lease have 3 seconds, whatever the
	// bound: the lease must not lapse under them.)
	//
	// With Open, zero means the client's operation timeout: DefaultTimeout
	// unless the URI's timeoutMS or ClientOptions set another; a positive
	// Timeout is also the client's operation timeout unless they set one;
	// a negative Timeout leaves the client without one (the driver's
	// default). With New, zero sets no bound of the store's own, so that
	// the application's client keeps its settings (the driver does not
	// tell them): its operation timeout, if any, bounds each command.
	Timeout time.Duration
}

// clientOptions returns the settings of the client Open makes for uri:
// Open's timeouts, then the URI's settings, then o.ClientOptions, each
// overriding what comes before.
func (o Options) clientOptions(uri string) *options.ClientOptions {
	return options.MergeClientOptions(o.clientDefaults(), options.Client().ApplyURI(uri), o.ClientOptions)
}

// clientDefaults returns the client settings Open applies before the URI
// and Options.ClientOptions, which override them.
func (o Options) clientDefaults() *options.ClientOptions {
	c := options.Client().SetConnectTimeout(DefaultConnectTimeout)
	switch {
	case o.Timeout > 0:
		c.SetTimeout(o.Timeout)
	case o.Timeout == 0:
		c.SetTimeout(DefaultTimeout)
	}
	return c
}

// storeTimeout returns the bound of each call of a Store made by Open with
// the client options c; zero means none.
func (o Options) storeTimeout(c *options.ClientOptions) time.Duration {
	switch {
	case o.Timeout != 0:
		return max(o.Timeout, 0)
	case c.Timeout != nil:
		return max(*c.Timeout, 0)
	}
	return 0
}
