package mongodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cloakroom/cloakroom/internal/background"
	"github.com/cloakroom/cloakroom/internal/timeout"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// closeTimeout bounds how long Close waits for the driver to end its
// server sessions and close its connections.
const closeTimeout = 10 * time.Second

// Store is a core.Backend on a MongoDB collection. It also implements
// core.Toucher, core.Lister, core.Conditional and core.Expirer, and is
// safe for concurrent use.
type Store struct {
	coll   *mongo.Collection
	client *mongo.Client // set only when Open created it; Close disconnects it
	log    *slog.Logger
	now    func() time.Time

	ttlIndex bool          // the server removes expired documents itself
	locks    *writeLocks   // nil unless the server's filtered writes are not atomic (FerretDB 1.x)
	timeout  time.Duration // bounds each call; zero when none

	findOpts    *options.FindOneOptionsBuilder // data and expiry, for Get
	versionOpts *options.FindOneOptionsBuilder // data, digest and expiry, for GetVersion
	expiryOpts  *options.FindOneOptionsBuilder // expiry alone: ExpiresAt, and classifying a failed conditional write
	upsertOpts  *options.UpdateOneOptionsBuilder

	cleanup   *background.Loop // nil when the store runs no clean-up
	closeOnce sync.Once
	closeErr  error
}

// New returns a Store on coll, a collection the application configured
// itself (its client, read and write concerns are used as they are). It
// asks the server what it is (one buildInfo) and, unless opts.SkipIndexes
// is set, creates the expiry index, idempotently; so it needs the server
// to answer within ctx. Close does not disconnect coll's client.
//
// The client's settings decide how long a call may wait for a server that
// stops answering: give it an operation timeout (SetTimeout, or timeoutMS
// in its URI) of 1.5 seconds for the 2-second bound of Open's defaults,
// and the same opts.Timeout to bound each call as a whole.
func New(ctx context.Context, coll *mongo.Collection, opts Options) (*Store, error) {
	if coll == nil {
		return nil, errors.New("mongodb: New: nil collection")
	}
	s := newStore(coll, opts)
	serial, err := needsWriteLocks(ctx, coll.Database())
	if err != nil {
		return nil, err
	}
	if serial {
		s.locks = newWriteLocks(coll)
		s.log.Warn("mongodb: the server is FerretDB 1.x, whose filtered writes are not atomic; "+
			"every write of a key holds the key's lease, two more round trips per write",
			"collection", s.namespace(), "leases", s.namespace()+leaseSuffix)
	}
	if opts.SkipIndexes {
		return s, nil
	}
	ttl, err := ensureIndex(ctx, coll)
	if err != nil {
		return nil, err
	}
	s.ttlIndex = ttl
	if !ttl {
		s.log.Warn("mongodb: the server refused a TTL index on expires_at; the store deletes expired sessions itself",
			"collection", s.namespace())
		s.startCleanup(opts.CleanupInterval)
	}
	return s, nil
}

// newStore is the part of New that sends nothing to the server.
func newStore(coll *mongo.Collection, opts Options) *Store {
	return &Store{
		coll:     coll,
		log:      cmp.Or(opts.Logger, slog.Default()),
		now:      time.Now,
		timeout:  max(opts.Timeout, 0),
		findOpts: options.FindOne().SetProjection(bson.D{{Key: fieldData, Value: 1}, {Key: fieldExpires, Value: 1}, {Key: fieldID, Value: 0}}),
		versionOpts: options.FindOne().SetProjection(bson.D{
			{Key: fieldData, Value: 1}, {Key: fieldDigest, Value: 1}, {Key: fieldExpires, Value: 1}, {Key: fieldID, Value: 0},
		}),
		expiryOpts: expiryProjection(),
		upsertOpts: options.UpdateOne().SetUpsert(true),
	}
}

// Open connects to the MongoDB deployment at uri (a standard mongodb:// or
// mongodb+srv:// connection string) and returns a Store on the database
// named by opts.Database, the URI path or DefaultDatabase, and the
// collection opts.Collection or DefaultCollection. It checks that the
// server answers within ctx. Close disconnects the client Open created.
//
// So that a server that stops answering fails each call within 1.5
// seconds, Open gives the client an operation timeout (DefaultTimeout, or
// opts.Timeout) and a connect timeout (DefaultConnectTimeout), unless the
// URI or opts.ClientOptions set them. The operation timeout also bounds
// the ping and index creation of Open when ctx has no deadline: give ctx a
// longer one to create the index on a large collection.
func Open(ctx context.Context, uri string, opts Options) (*Store, error) {
	dbName, collName, err := names(uri, opts)
	if err != nil {
		return nil, err
	}
	clientOpts := opts.clientOptions(uri)
	client, err := mongo.Connect(clientOpts)
	if err != nil {
		return nil, fmt.Errorf("mongodb: connect: %w", err)
	}
	fail := func(err error) (*Store, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = client.Disconnect(dctx)
		return nil, err
	}
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		return fail(fmt.Errorf("mongodb: ping %s: %w", redact(uri), err))
	}
	s, err := New(ctx, client.Database(dbName).Collection(collName), opts)
	if err != nil {
		return fail(err)
	}
	s.client = client
	s.timeout = opts.storeTimeout(clientOpts)
	return s, nil
}

// names picks the database and collection Open uses.
func names(uri string, opts Options) (db, coll string, err error) {
	cs, err := connstring.Parse(uri)
	if err != nil {
		return "", "", fmt.Errorf("mongodb: parse URI: %w", err)
	}
	db = cmp.Or(opts.Database, cs.Database, DefaultDatabase)
	coll = cmp.Or(opts.Collection, DefaultCollection)
	return db, coll, nil
}

// redact drops credentials from a URI before it goes into an error.
func redact(uri string) string {
	cs, err := connstring.Parse(uri)
	if err != nil || len(cs.Hosts) == 0 {
		return "server"
	}
	return strings.Join(cs.Hosts, ",")
}

// bound limits ctx to the Store's timeout for one call. One deadline for
// the whole call also bounds the wait for a key's lock and lease and a
// call's second command, which the client's operation timeout, applied to
// each command, does not.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return timeout.Bound(ctx, s.timeout)
}

// Collection returns the collection the Store uses, for administration
// (indexes, statistics) and tests.
func (s *Store) Collection() *mongo.Collection { return s.coll }

// namespace names the store's collection in logs: "database.collection".
func (s *Store) namespace() string {
	return s.coll.Database().Name() + "." + s.coll.Name()
}

// Close stops the background clean-up, if one runs, and disconnects the
// client when Open created it; a Store from New leaves its collection's
// client connected. It waits at most ten seconds for the driver. Calling Close
// more than once is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cleanup.Stop()
		if s.client != nil {
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			defer cancel()
			if err := s.client.Disconnect(ctx); err != nil {
				s.closeErr = fmt.Errorf("mongodb: disconnect: %w", err)
			}
		}
	})
	return s.closeErr
}
