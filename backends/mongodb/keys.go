package mongodb

import (
	"context"
	"fmt"
	"iter"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// cursorCloseTimeout bounds the killCursors call made when iteration stops
// early or its context is canceled.
const cursorCloseTimeout = 5 * time.Second

// Keys implements core.Lister. It runs one query for live keys starting
// with prefix (an anchored, escaped regular expression on _id, which the
// _id index serves) and reads the cursor batch by batch as the caller
// iterates.
func (s *Store) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		filter := live(bson.D{{Key: fieldID, Value: bson.D{
			{Key: "$regex", Value: "^" + regexp.QuoteMeta(prefix)},
		}}}, s.now())
		cur, err := s.coll.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}}))
		if err != nil {
			yield("", fmt.Errorf("mongodb: keys %q: %w", prefix, err))
			return
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cursorCloseTimeout)
			defer cancel()
			_ = cur.Close(cctx)
		}()
		for cur.Next(ctx) {
			key, ok := cur.Current.Lookup(fieldID).StringValueOK()
			if !ok {
				continue // a $regex matches only strings; be safe all the same
			}
			if !yield(key, nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield("", fmt.Errorf("mongodb: keys %q: %w", prefix, err))
		}
	}
}
