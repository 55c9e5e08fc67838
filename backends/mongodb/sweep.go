package mongodb

import (
	"context"
	"time"

	"github.com/cloakroom/cloakroom/internal/background"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// startSweeper deletes expired documents every interval until Close, for
// servers without TTL indexes.
func (s *Store) startSweeper(interval time.Duration) {
	if interval < 0 {
		return
	}
	if interval == 0 {
		interval = defaultSweepInterval
	}
	s.sweeper = background.Every(interval, func(ctx context.Context) {
		if _, err := s.sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("mongodb: deleting expired sessions failed", "err", err)
		}
	})
}

// sweep deletes the documents that expired before now and reports how many.
func (s *Store) sweep(ctx context.Context) (int64, error) {
	filter := bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$lte", Value: s.now()}}}}
	res, err := s.coll.DeleteMany(ctx, filter)
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
