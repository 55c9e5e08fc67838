package mongodb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Get implements core.Backend. An expired document still waiting for the
// TTL monitor counts as absent.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, data, err := s.find(ctx, "get", key, s.findOpts)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(data), nil
}

// find reads the document of key with one query, projected by opts, and
// returns it with its value, both views into the driver's buffer, which
// the caller copies. It looks the document up by _id alone and checks
// expires_at itself, which matches the live filter that the writes send
// but keeps the query the cheapest the server has. op names the caller in
// errors.
func (s *Store) find(ctx context.Context, op, key string, opts *options.FindOneOptionsBuilder) (bson.Raw, []byte, error) {
	raw, err := s.coll.FindOne(ctx, bson.D{{Key: fieldID, Value: key}}, opts).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil, fmt.Errorf("mongodb: %s %q: %w", op, key, core.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("mongodb: %s %q: %w", op, key, err)
	}
	if !isLive(raw, s.now()) {
		return nil, nil, fmt.Errorf("mongodb: %s %q: %w", op, key, core.ErrNotFound)
	}
	_, data, ok := raw.Lookup(fieldData).BinaryOK()
	if !ok {
		return nil, nil, fmt.Errorf("mongodb: %s %q: field %q is not binary data", op, key, fieldData)
	}
	return raw, data, nil
}

// Set implements core.Backend with one upsert, which sets the data and its
// digest together.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return fmt.Errorf("mongodb: set %q: %w", key, err)
	}
	defer unlock()
	if value == nil {
		value = []byte{} // store empty binary data, not null
	}
	update := expiryUpdate(dataFields(value), s.now(), ttl)
	_, err = s.coll.UpdateOne(ctx, bson.D{{Key: fieldID, Value: key}}, update, s.upsertOpts)
	if err != nil {
		return fmt.Errorf("mongodb: set %q: %w", key, err)
	}
	return nil
}

// Delete implements core.Backend.
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return fmt.Errorf("mongodb: delete %q: %w", key, err)
	}
	defer unlock()
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: fieldID, Value: key}}); err != nil {
		return fmt.Errorf("mongodb: delete %q: %w", key, err)
	}
	return nil
}

// Touch implements core.Toucher: it rewrites only expires_at, and only
// when the document exists and has not expired.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return fmt.Errorf("mongodb: touch %q: %w", key, err)
	}
	defer unlock()
	now := s.now()
	filter := live(bson.D{{Key: fieldID, Value: key}}, now)
	res, err := s.coll.UpdateOne(ctx, filter, expiryUpdate(nil, now, ttl))
	if err != nil {
		return fmt.Errorf("mongodb: touch %q: %w", key, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongodb: touch %q: %w", key, core.ErrNotFound)
	}
	return nil
}

// ExpiresAt implements core.Expirer with one query that reads the
// document's expires_at alone, not its data: the zero time when the
// document has none, an error wrapping core.ErrNotFound when there is no
// document or it has expired (an expired one may wait for the TTL monitor).
func (s *Store) ExpiresAt(ctx context.Context, key string) (time.Time, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	raw, err := s.coll.FindOne(ctx, bson.D{{Key: fieldID, Value: key}}, s.expiryOpts).Raw()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return time.Time{}, fmt.Errorf("mongodb: expiresat %q: %w", key, core.ErrNotFound)
	case err != nil:
		return time.Time{}, fmt.Errorf("mongodb: expiresat %q: %w", key, err)
	case !isLive(raw, s.now()):
		return time.Time{}, fmt.Errorf("mongodb: expiresat %q: %w", key, core.ErrNotFound)
	}
	v, err := raw.LookupErr(fieldExpires)
	if err != nil {
		return time.Time{}, nil // no expires_at: no expiry
	}
	// isLive has checked that it is a date.
	return v.Time().UTC(), nil
}
