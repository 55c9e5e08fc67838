package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var (
	_ core.Conditional = (*Store)(nil)
	_ core.Versioner   = (*Store)(nil)
	_ core.Expirer     = (*Store)(nil)
)

// GetVersion implements core.Conditional with the one query Get sends. The
// version is the stored value itself: a peer's blind write of other bytes
// changes it, and the stored document gains no field of cloakroom's own.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	data, err := s.find(ctx, "getversion", key)
	if err != nil {
		return nil, nil, err
	}
	// One allocation for both copies: the caller may modify the value
	// without changing the version it hands back.
	n := len(data)
	buf := make([]byte, 2*n)
	copy(buf, data)
	copy(buf[n:], data)
	return buf[:n:n], core.Version(buf[n:]), nil
}

// VersionOf implements core.Versioner: a version is the stored value.
func (s *Store) VersionOf(value []byte) core.Version {
	if value == nil {
		return core.Version{} // nil would mean absent
	}
	return core.Version(value)
}

// SetIf implements core.Conditional. With a version it is one UpdateOne
// whose filter requires the live document to still hold the version's
// bytes, which MongoDB applies atomically to the document. With a nil
// version it is one InsertOne, which the unique _id refuses when the key
// exists; a key that exists only as an expired document still waiting for
// its removal is then replaced by an UpdateOne conditioned on that expiry.
// The ttl follows the rules of Set.
//
// Only when nothing matched does SetIf read the document once more, to
// tell a key that holds another value (core.ErrConflict) from one that is
// absent or expired (core.ErrNotFound).
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if value == nil {
		value = []byte{} // store empty binary data, not null
	}
	if version == nil {
		return s.create(ctx, key, value, ttl)
	}
	matched, err := s.replace(ctx, key, version, value, ttl)
	if err != nil || matched {
		return err
	}
	return s.mismatch(ctx, "setif", key)
}

// replace writes value over the live document of key if it holds version,
// and reports whether it did. It holds the key's lock (serial.go) for its
// write alone: the read that explains a mismatch needs none, and it is
// made after, so that writers queued behind a stale one wait the less.
func (s *Store) replace(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) (bool, error) {
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return false, fmt.Errorf("mongodb: setif %q: %w", key, err)
	}
	defer unlock()
	now := s.now()
	update := expiryUpdate(bson.D{{Key: fieldData, Value: value}}, now, ttl)
	res, err := s.coll.UpdateOne(ctx, holding(key, version, now), update)
	if err != nil {
		return false, fmt.Errorf("mongodb: setif %q: %w", key, err)
	}
	return res.MatchedCount == 1, nil
}

// create stores a new document for key unless a live one exists.
func (s *Store) create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return fmt.Errorf("mongodb: setif %q: %w", key, err)
	}
	defer unlock()
	now := s.now()
	doc := bson.D{{Key: fieldID, Value: key}, {Key: fieldData, Value: value}}
	if ttl > 0 {
		doc = append(doc, bson.E{Key: fieldExpires, Value: now.Add(ttl)})
	}
	_, err = s.coll.InsertOne(ctx, doc)
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongodb: setif %q: %w", key, err)
	}
	// The key exists. Take it over only if it has expired: the filter
	// makes a racing creator that revived it first win instead.
	filter := expired(bson.D{{Key: fieldID, Value: key}}, now)
	res, err := s.coll.UpdateOne(ctx, filter, expiryUpdate(bson.D{{Key: fieldData, Value: value}}, now, ttl))
	if err != nil {
		return fmt.Errorf("mongodb: setif %q: %w", key, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongodb: setif %q exists: %w", key, core.ErrConflict)
	}
	return nil
}

// DeleteIf implements core.Conditional with one DeleteOne whose filter is
// that of SetIf: the document goes only if it is live and still holds the
// version's bytes. When nothing was deleted it reads the document once, as
// SetIf does, to return core.ErrConflict or core.ErrNotFound. A nil version
// matches no stored value, so DeleteIf(key, nil) only classifies.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if version != nil {
		deleted, err := s.deleteHolding(ctx, key, version)
		if err != nil || deleted {
			return err
		}
	}
	return s.mismatch(ctx, "deleteif", key)
}

// deleteHolding deletes the live document of key if it holds version, and
// reports whether it did. Like replace, it holds the key's lock for the
// delete alone.
func (s *Store) deleteHolding(ctx context.Context, key string, version core.Version) (bool, error) {
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return false, fmt.Errorf("mongodb: deleteif %q: %w", key, err)
	}
	defer unlock()
	res, err := s.coll.DeleteOne(ctx, holding(key, version, s.now()))
	if err != nil {
		return false, fmt.Errorf("mongodb: deleteif %q: %w", key, err)
	}
	return res.DeletedCount == 1, nil
}

// mismatch explains why a conditional write of key matched nothing, with
// one read of the document's expiry: a live document holds another value
// (core.ErrConflict); no document, or an expired one, means the key is gone
// (core.ErrNotFound).
func (s *Store) mismatch(ctx context.Context, op, key string) error {
	raw, err := s.coll.FindOne(ctx, bson.D{{Key: fieldID, Value: key}}, s.expiryOpts).Raw()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("mongodb: %s %q: %w", op, key, core.ErrNotFound)
	case err != nil:
		return fmt.Errorf("mongodb: %s %q: %w", op, key, err)
	case !isLive(raw, s.now()):
		return fmt.Errorf("mongodb: %s %q: %w", op, key, core.ErrNotFound)
	}
	return fmt.Errorf("mongodb: %s %q holds another value: %w", op, key, core.ErrConflict)
}

// expiryProjection is the projection of mismatch, where the expiry alone
// decides between conflict and absence, and of ExpiresAt.
func expiryProjection() *options.FindOneOptionsBuilder {
	return options.FindOne().SetProjection(bson.D{{Key: fieldExpires, Value: 1}, {Key: fieldID, Value: 0}})
}
