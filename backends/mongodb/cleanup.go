package mongodb

import (
	"context"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/internal/background"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// cleanupTimeout bounds one background clean-up, so that a server that
// stopped answering costs a logged failure rather than a stuck loop.
const cleanupTimeout = 30 * time.Second

// startCleanup runs Purge every interval until Close, for servers without
// TTL indexes. Failures are logged; one canceled by Close is not a failure.
func (s *Store) startCleanup(interval time.Duration) {
	if interval < 0 {
		return
	}
	if interval == 0 {
		interval = defaultCleanupInterval
	}
	s.cleanup = background.Every(interval, func(ctx context.Context) {
		rctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
		defer cancel()
		n, err := s.Purge(rctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("mongodb: deleting expired sessions failed", "collection", s.namespace(), "err", err)
		case n > 0:
			s.log.Debug("mongodb: deleted expired sessions", "collection", s.namespace(), "count", n)
		}
	})
}

// purgeBatch is how many expired sessions Purge leases and deletes at
// once where writes take leases.
const purgeBatch = 256

// Purge deletes every document whose expires_at has passed, with one
// DeleteMany served by the index on expires_at, and reports how many it
// deleted. Expired documents are invisible to every other method already;
// Purge only frees their space. On servers with TTL indexes MongoDB does
// this itself about once a minute; on others the store calls Purge every
// Options.CleanupInterval. On FerretDB 1.x it takes more commands, as
// purgeLeased tells.
func (s *Store) Purge(ctx context.Context) (int, error) {
	if s.locks != nil {
		return s.purgeLeased(ctx, s.locks.leases)
	}
	res, err := s.coll.DeleteMany(ctx, purgeFilter(nil, s.now()))
	if err != nil {
		return 0, fmt.Errorf("mongodb: purge: %w", err)
	}
	return int(res.DeletedCount), nil
}

// purgeFilter extends filter to match the documents Purge deletes at now.
func purgeFilter(filter bson.D, now time.Time) bson.D {
	return append(filter, bson.E{Key: fieldExpires, Value: bson.D{{Key: "$lte", Value: now}}})
}

// purgeLeased is Purge where writes take leases. A DeleteMany is a select
// then a delete by _id there, and could delete a session that another
// process's write revived between the two: so it first breaks the leases
// that crashed holders left, then deletes expired sessions batch by batch,
// in the order of their keys, each batch under the leases of its keys:
// three commands for up to purgeBatch sessions. A key whose lease another
// writer holds is left to the next Purge, since that writer may be
// reviving it.
func (s *Store) purgeLeased(ctx context.Context, ls *leases) (int, error) {
	if err := ls.breakAllExpired(ctx); err != nil {
		return 0, fmt.Errorf("mongodb: purge: %w", err)
	}
	deleted, after := 0, ""
	for {
		keys, err := s.expiredKeys(ctx, after)
		if err != nil || len(keys) == 0 {
			return deleted, err
		}
		n, err := s.deleteLeased(ctx, ls, keys)
		deleted += n
		if err != nil || len(keys) < purgeBatch {
			return deleted, err
		}
		after = keys[len(keys)-1]
	}
}

// expiredKeys returns the keys of up to purgeBatch expired sessions, in
// order, from the first after the key after ("": from the first).
func (s *Store) expiredKeys(ctx context.Context, after string) ([]string, error) {
	var filter bson.D
	if after != "" {
		filter = bson.D{{Key: fieldID, Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	opts := options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}}).
		SetSort(bson.D{{Key: fieldID, Value: 1}}).SetLimit(purgeBatch)
	cur, err := s.coll.Find(ctx, purgeFilter(filter, s.now()), opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb: purge: %w", err)
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongodb: purge: %w", err)
	}
	keys := make([]string, 0, len(docs))
	for _, doc := range docs {
		if key, ok := doc.Lookup(fieldID).StringValueOK(); ok {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// deleteLeased deletes those of keys that are still expired and whose
// leases it can take, and reports how many it deleted.
func (s *Store) deleteLeased(ctx context.Context, ls *leases, keys []string) (int, error) {
	h, err := ls.insertMany(ctx, keys)
	if err != nil {
		return 0, fmt.Errorf("mongodb: purge: %w", err)
	}
	if h == nil {
		return 0, nil // every key is being written
	}
	dctx, cancel := context.WithDeadline(ctx, h.until)
	defer cancel()
	filter := purgeFilter(bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: h.names}}}}, s.now())
	res, err := s.coll.DeleteMany(dctx, filter)
	h.release(ctx, func() {})
	if err != nil {
		return 0, fmt.Errorf("mongodb: purge: %w", err)
	}
	return int(res.DeletedCount), nil
}
