package mongodb

import (
	"context"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/internal/background"
	"go.mongodb.org/mongo-driver/v2/bson"
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

// Purge deletes every document whose expires_at has passed, with one
// DeleteMany served by the index on expires_at, and reports how many it
// deleted. Expired documents are invisible to every other method already;
// Purge only frees their space. On servers with TTL indexes MongoDB does
// this itself about once a minute; on others the store calls Purge every
// Options.CleanupInterval.
func (s *Store) Purge(ctx context.Context) (int, error) {
	unlock, err := s.locks.lockAll(ctx)
	if err != nil {
		return 0, fmt.Errorf("mongodb: purge: %w", err)
	}
	defer unlock()
	filter := bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$lte", Value: s.now()}}}}
	res, err := s.coll.DeleteMany(ctx, filter)
	if err != nil {
		return 0, fmt.Errorf("mongodb: purge: %w", err)
	}
	return int(res.DeletedCount), nil
}
