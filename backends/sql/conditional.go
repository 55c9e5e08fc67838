package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// The conditional methods compare the data column itself with the version
// read, so that a blind write by a peer that knows nothing of versions
// (Django, an older cloakroom) is detected too. On PostgreSQL and MySQL
// they compare SHA-256 digests of the two, the column's computed by the
// server, so that a write sends the new value once and 32 bytes for the old
// one (holdsVersion); no version column is needed, and Django's table
// stays as Django made it. Each is one statement when it succeeds; a second
// query, on the failure path only, tells a conflict from an absent key.

// GetVersion is Get that also returns the version of the value it read: the
// data column's bytes as stored. It is the same single query as Get.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	value, stored, err := s.read(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: get %q: %w", key, err)
	}
	// A copy, so that changing the value in place cannot change the
	// version; non-nil even for an empty value (nil asks for a create).
	version := make(core.Version, len(stored))
	copy(version, stored)
	return value, version, nil
}

// VersionOf implements core.Versioner: a version is what the data column
// holds, the value itself or, in a text column, its text form.
func (s *Store) VersionOf(value []byte) core.Version {
	if s.table.TextData {
		return core.Version(encodeText(value))
	}
	if value == nil {
		return core.Version{} // nil would mean absent
	}
	return core.Version(value)
}

// SetIf stores value under key only if the key's live row still holds
// version; with a nil version, only if the key has no live row (an expired
// row is replaced). It returns an error wrapping core.ErrConflict when the
// row holds another value (or, for a nil version, any live value), and one
// wrapping core.ErrNotFound when a version was given but the key is absent
// or expired. A ttl of zero or less keeps the value until it is deleted.
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	ctx, cancel := s.bound(ctx) // one bound for all the statements of the call
	defer cancel()
	var err error
	if version == nil {
		err = s.create(ctx, key, value, ttl)
	} else {
		err = s.swap(ctx, key, version, value, ttl)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: set %q: %w", key, err)
	}
	return nil
}

// swap is SetIf with a version: one UPDATE ... WHERE data holds version.
func (s *Store) swap(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	now := s.now()
	data, expiry, held := s.dataArg(value), s.expiryArg(now, ttl), s.versionArg(version)
	n, err := s.exec(ctx, &s.stmts.swap, data, expiry, key, held, s.dialect.timeArg(now))
	if err != nil || n > 0 {
		return err
	}
	// The version is in the column's form (text-encoded in a text
	// column): compare the value in that form too.
	if s.dialect == MySQL && bytes.Equal(version, s.VersionOf(value)) {
		return s.classifyMySQLSwap(ctx, key, held, expiry)
	}
	return s.classify(ctx, key)
}

// versionArg binds version for the condition holdsVersion builds: its
// SHA-256 digest on PostgreSQL and MySQL, the stored bytes themselves on
// SQLite.
func (s *Store) versionArg(version core.Version) any {
	if s.dialect == SQLite {
		return s.storedArg(version)
	}
	sum := sha256.Sum256(version)
	return sum[:]
}

// classifyMySQLSwap explains an UPDATE that wrote back the very value it
// was conditioned on and that MySQL reported as affecting no row. Without
// clientFoundRows (the driver's default, and a *sql.DB given to New may have
// either), MySQL counts changed rows, not matched ones: a row that matched
// and already held that value and expiry reports 0 too. That is a success.
// Only then: when the new value differs from the version, a row holding the
// new value was written by someone else (two requests that both turned
// n=5 into n=6), and calling that a success would lose an update. held is
// the version's versionArg, which is also the new value's.
func (s *Store) classifyMySQLSwap(ctx context.Context, key string, held, expiry any) error {
	var same bool
	err := s.queryRow(ctx, &s.stmts.holds, []any{held, expiry, key, s.nowArg()}, &same)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return core.ErrNotFound
	case err != nil:
		return err
	case same:
		return nil
	}
	return core.ErrConflict
}

// create is SetIf with a nil version.
func (s *Store) create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	now := s.now()
	data, expiry := s.dataArg(value), s.expiryArg(now, ttl)
	if s.dialect == MySQL {
		return s.createMySQL(ctx, key, data, expiry, now)
	}
	// INSERT ... ON CONFLICT DO UPDATE ... WHERE the row has expired: it
	// affects no row exactly when a live row is in the way.
	n, err := s.exec(ctx, &s.stmts.create, key, data, expiry, s.dialect.timeArg(now))
	switch {
	case err != nil:
		return err
	case n == 0:
		return core.ErrConflict
	}
	return nil
}

// createMySQL inserts the row; when the insert fails, most often because
// the key exists, it replaces the row only if it has expired. MySQL's
// upsert (ON DUPLICATE KEY UPDATE) cannot serve: with clientFoundRows, an
// insert and an update that changes nothing both report one row.
func (s *Store) createMySQL(ctx context.Context, key string, data, expiry any, now time.Time) error {
	_, insertErr := s.exec(ctx, &s.stmts.create, key, data, expiry)
	if insertErr == nil || ctx.Err() != nil { // no time left to ask why
		return insertErr
	}
	// The new expiry is later than now and the old one is not, so the
	// replacement changes the row and counts as affected either way.
	n, err := s.exec(ctx, &s.stmts.replaceExpired, data, expiry, key, s.dialect.timeArg(now))
	if err != nil {
		return errors.Join(insertErr, err)
	}
	if n > 0 {
		return nil
	}
	live, err := s.exists(ctx, key)
	switch {
	case err != nil:
		return errors.Join(insertErr, err)
	case live:
		return core.ErrConflict
	}
	// No row is in the way: the insert failed for another reason (a key
	// too long for its column, say).
	return insertErr
}

// DeleteIf removes key only if its live row still holds version. It
// returns an error wrapping core.ErrConflict when the row holds another
// value and one wrapping core.ErrNotFound when the key is absent or
// expired. A nil version holds no value, so it never matches.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.deleteIf(ctx, key, version); err != nil {
		return fmt.Errorf("sqlstore: delete %q: %w", key, err)
	}
	return nil
}

func (s *Store) deleteIf(ctx context.Context, key string, version core.Version) error {
	if version != nil {
		n, err := s.exec(ctx, &s.stmts.deleteIf, key, s.versionArg(version), s.nowArg())
		if err != nil || n > 0 {
			return err
		}
	}
	return s.classify(ctx, key)
}

// classify explains a conditional statement that affected no row: a live
// row means another value is stored (core.ErrConflict), none means the key
// is absent or expired (core.ErrNotFound).
func (s *Store) classify(ctx context.Context, key string) error {
	live, err := s.exists(ctx, key)
	switch {
	case err != nil:
		return err
	case live:
		return core.ErrConflict
	}
	return core.ErrNotFound
}
