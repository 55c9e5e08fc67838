package mongodb

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// IndexName is the name of the index the store creates on expires_at.
const IndexName = "cloakroom_expires_at"

// Server error codes meaning "this server cannot do that", as returned by
// MongoDB-compatible servers asked for a TTL index.
const (
	codeCommandNotSupported = 115
	codeNotImplemented      = 238
)

// ensureIndex creates the TTL index on expires_at, or accepts the one that
// already exists with the same definition. When the server does not
// implement TTL indexes it creates a plain index instead, which keeps the
// expiry filters and Purge fast, and reports ttl false.
func ensureIndex(ctx context.Context, coll *mongo.Collection) (ttl bool, err error) {
	keys := bson.D{{Key: fieldExpires, Value: 1}}
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    keys,
		Options: options.Index().SetName(IndexName).SetExpireAfterSeconds(0),
	})
	if err == nil {
		return true, nil
	}
	if !unsupported(err) {
		return false, fmt.Errorf("mongodb: create TTL index %s on %s (set Options.SkipIndexes if indexes are managed elsewhere): %w",
			IndexName, fieldExpires, err)
	}
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    keys,
		Options: options.Index().SetName(IndexName),
	})
	if err != nil {
		return false, fmt.Errorf("mongodb: create index %s on %s: %w", IndexName, fieldExpires, err)
	}
	return false, nil
}

// unsupported reports whether err is a server's refusal of a feature it
// does not implement, as opposed to a conflict or a failure.
func unsupported(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) &&
		(se.HasErrorCode(codeNotImplemented) || se.HasErrorCode(codeCommandNotSupported))
}
