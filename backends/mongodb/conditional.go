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

// GetVersion implements core.Conditional with the one query Get sends, the
// document's data_sha256 included. The version names the data by that
// digest when the document holds its data's (any document this store
// wrote), and by the data itself when it does not (see version.go), so
// that a blind write by a peer that leaves no digest, or a stale one, is
// detected as well.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	doc, data, err := s.find(ctx, "getversion", key, s.versionOpts)
	if err != nil {
		return nil, nil, err
	}
	_, stored, _ := doc.Lookup(fieldDigest).BinaryOK()
	value, version := readVersion(data, stored)
	return value, version, nil
}

// VersionOf implements core.Versioner: what GetVersion returns after a
// write of this store, which stores value with its digest.
func (s *Store) VersionOf(value []byte) core.Version {
	return digestVersion(value)
}

// SetIf implements core.Conditional. With a version it is one UpdateOne
// whose filter requires the live document to still hold the version's
// data (by its digest, 32 bytes, or by the data itself for a document
// that had none), which MongoDB applies atomically to the document; the
// update sets the data and its digest together. With a nil version it is
// one InsertOne, which the unique _id refuses when the key exists; a key
// that exists only as an expired document still waiting for its removal
// is then replaced by an UpdateOne conditioned on that expiry. The ttl
// follows the rules of Set.
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
	if cond, ok := versionCondition(version); ok {
		matched, err := s.replace(ctx, key, cond, value, ttl)
		if err != nil || matched {
			return err
		}
	}
	return s.mismatch(ctx, "setif", key)
}

// replace writes value over the live document of key if it meets cond,
// the condition of a version, and reports whether it did. It holds the
// key's lock (serial.go) for its write alone: the read that explains a
// mismatch needs none, and it is made after, so that writers queued behind
// a stale one wait the less.
func (s *Store) replace(ctx context.Context, key string, cond bson.E, value []byte, ttl time.Duration) (bool, error) {
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return false, fmt.Errorf("mongodb: setif %q: %w", key, err)
	}
	defer unlock()
	now := s.now()
	update := expiryUpdate(dataFields(value), now, ttl)
	res, err := s.coll.UpdateOne(ctx, holding(key, cond, now), update)
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
	fields := dataFields(value)
	doc := append(bson.D{{Key: fieldID, Value: key}}, fields...)
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
	res, err := s.coll.UpdateOne(ctx, filter, expiryUpdate(fields, now, ttl))
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
// version's data. When nothing was deleted it reads the document once, as
// SetIf does, to return core.ErrConflict or core.ErrNotFound. A nil version
// matches no stored value, so DeleteIf(key, nil) only classifies.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if cond, ok := versionCondition(version); ok {
		deleted, err := s.deleteHolding(ctx, key, cond)
		if err != nil || deleted {
			return err
		}
	}
	return s.mismatch(ctx, "deleteif", key)
}

// deleteHolding deletes the live document of key if it meets cond, and
// reports whether it did. Like replace, it holds the key's lock for the
// delete alone.
func (s *Store) deleteHolding(ctx context.Context, key string, cond bson.E) (bool, error) {
	ctx, unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return false, fmt.Errorf("mongodb: deleteif %q: %w", key, err)
	}
	defer unlock()
	res, err := s.coll.DeleteOne(ctx, holding(key, cond, s.now()))
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
