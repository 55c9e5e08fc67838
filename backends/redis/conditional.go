package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
)

// A Store's version of a value is the value itself: the conditional writes
// compare what Redis holds now with what GetVersion read. Nothing else is
// stored (no counter beside the key), so the keys stay exactly what a
// Python peer reads and writes, and a peer's blind SET of different bytes
// makes the next conditional write fail with core.ErrConflict. A peer that
// rewrites the very bytes that were read changes nothing a request could
// lose, so that is not a conflict.
//
// The scripts receive a SHA-1 hex digest of the expected value, computed
// here, and compare it with redis.sha1hex of the stored one, rather than the
// expected value itself. That keeps every conditional write at one copy of
// the session on the wire instead of two (old and new), whatever the
// session's size; on the server both ways cost about the same, since copying
// the stored value into Lua dominates either way (measured on Redis 7.0
// from 200 B to 1 MiB). The digest is only an equality test: two different
// values with one SHA-1 exist only when crafted on purpose, and the worst
// such a pair could do is let a conditional write replace the other crafted
// value, a lost update and nothing more.

// Replies of the conditional scripts. The Lua sources below spell them out
// as literals.
const (
	scriptDone     = 0 // the key held the expected value and was written
	scriptNotFound = 1 // the key is absent or expired
	scriptConflict = 2 // the key holds another value
)

// setIfScript stores ARGV[2] under KEYS[1] if the key holds the value whose
// SHA-1 hex digest is ARGV[1], with a lifetime of ARGV[3] milliseconds, or
// none (dropping an earlier expiry) when ARGV[3] is 0. It touches only
// KEYS[1], so it runs on Cluster.
var setIfScript = goredis.NewScript(`
local current = redis.call('GET', KEYS[1])
if not current then return 1 end
if redis.sha1hex(current) ~= ARGV[1] then return 2 end
if tonumber(ARGV[3]) > 0 then
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
	redis.call('SET', KEYS[1], ARGV[2])
end
return 0`)

// deleteIfScript deletes KEYS[1] if it holds the value whose SHA-1 hex
// digest is ARGV[1].
var deleteIfScript = goredis.NewScript(`
local current = redis.call('GET', KEYS[1])
if not current then return 1 end
if redis.sha1hex(current) ~= ARGV[1] then return 2 end
redis.call('DEL', KEYS[1])
return 0`)

// GetVersion implements core.Conditional with one GET. The version is a
// copy of the value, so the caller may modify the value it gets without
// changing the version.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	if err := s.ready(ctx); err != nil {
		return nil, nil, fmt.Errorf("redis: get %q: %w", key, err)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	value, err := s.client.Get(bounded, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil, fmt.Errorf("redis: get %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("redis: get %q: %w", key, s.explain(ctx, bounded, err))
	}
	// A copy, not the same slice: a caller that decodes or decrypts the
	// value in place must not turn its own version into a conflict. It is
	// never nil, as nil would mean "absent" to SetIf.
	version := make(core.Version, len(value))
	copy(version, value)
	return value, version, nil
}

// VersionOf implements core.Versioner: a version is the stored value, of
// which SetIf sends the SHA-1.
func (s *Store) VersionOf(value []byte) core.Version {
	if value == nil {
		return core.Version{} // nil would mean absent
	}
	return core.Version(value)
}

// SetIf implements core.Conditional. With a nil version it sends
// SET key value NX PX ms (SET NX without expiry when ttl <= 0); otherwise
// one script (EVALSHA, or EVAL the first time a server sees it) that checks
// the stored value and SETs the new one, dropping any earlier expiry when
// ttl <= 0. With Options.WaitReplicas, WAIT follows in the same round trip,
// and only a write that was made must be acknowledged.
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("redis: set-if %q: %w", key, err)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	if version == nil {
		return s.create(ctx, bounded, key, value, ttl)
	}
	args := []any{digest(version), value, lifetime(ttl).Milliseconds()}
	if s.wait > 0 {
		code, w, err := s.runScript(bounded, setIfScript, key, args...)
		return s.conditionalResult(ctx, bounded, "set-if", key, code, w, err)
	}
	code, err := setIfScript.Run(bounded, s.client, []string{key}, args...).Int()
	if err != nil {
		return fmt.Errorf("redis: set-if %q: %w", key, s.explain(ctx, bounded, err))
	}
	return scriptResult("set-if", key, code)
}

// create stores value under key only if the key is absent. It runs under
// bounded, the Store's bound of the caller's ctx.
func (s *Store) create(ctx, bounded context.Context, key string, value []byte, ttl time.Duration) error {
	var stored bool
	var err error
	var w waited
	if s.wait > 0 {
		var cmd *goredis.BoolCmd
		cmd, w = replicated(bounded, s, key, func(p goredis.Pipeliner) *goredis.BoolCmd {
			return p.SetNX(bounded, key, value, lifetime(ttl))
		})
		stored, err = cmd.Result()
	} else {
		stored, err = s.client.SetNX(bounded, key, value, lifetime(ttl)).Result()
	}
	if err != nil {
		return fmt.Errorf("redis: set-if %q: %w", key, s.explain(ctx, bounded, err))
	}
	if !stored {
		return fmt.Errorf("redis: set-if %q: %w", key, core.ErrConflict)
	}
	if s.wait > 0 {
		return s.durable("set-if", key, w)
	}
	return nil
}

// DeleteIf implements core.Conditional with one script (EVALSHA, or EVAL
// the first time a server sees it) that checks the stored value and DELs
// the key. A nil version, which stands for an absent key, deletes nothing:
// the reply is ErrNotFound or ErrConflict. With Options.WaitReplicas, WAIT
// follows in the same round trip, as for SetIf.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("redis: delete-if %q: %w", key, err)
	}
	want := "" // no SHA-1 digest is empty, so nothing matches
	if version != nil {
		want = digest(version)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	if s.wait > 0 {
		code, w, err := s.runScript(bounded, deleteIfScript, key, want)
		return s.conditionalResult(ctx, bounded, "delete-if", key, code, w, err)
	}
	code, err := deleteIfScript.Run(bounded, s.client, []string{key}, want).Int()
	if err != nil {
		return fmt.Errorf("redis: delete-if %q: %w", key, s.explain(ctx, bounded, err))
	}
	return scriptResult("delete-if", key, code)
}

// conditionalResult is the error of a conditional script followed by
// WAIT: the script's, or, when it wrote, the wait's.
func (s *Store) conditionalResult(ctx, bounded context.Context, op, key string, code int, w waited, err error) error {
	if err != nil {
		return fmt.Errorf("redis: %s %q: %w", op, key, s.explain(ctx, bounded, err))
	}
	if code != scriptDone {
		return scriptResult(op, key, code)
	}
	return s.durable(op, key, w)
}

// scriptResult turns a conditional script's reply into the error core
// expects.
func scriptResult(op, key string, code int) error {
	switch code {
	case scriptDone:
		return nil
	case scriptNotFound:
		return fmt.Errorf("redis: %s %q: %w", op, key, core.ErrNotFound)
	case scriptConflict:
		return fmt.Errorf("redis: %s %q: %w", op, key, core.ErrConflict)
	default:
		return fmt.Errorf("redis: %s %q: unexpected script reply %d", op, key, code)
	}
}

// digest returns the SHA-1 hex digest of version, as redis.sha1hex gives it.
func digest(version core.Version) string {
	sum := sha1.Sum(version)
	var text [2 * sha1.Size]byte // one allocation, the string's, where EncodeToString makes two
	hex.Encode(text[:], sum[:])
	return string(text[:])
}
