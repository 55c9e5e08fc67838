package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// Expirer is implemented by backends that can tell when a key expires,
// so that an operator's listing (Manager.Scan) can show it.
type Expirer interface {
	// ExpiresAt returns when key expires, the zero time when it never
	// does, or an error wrapping ErrNotFound when it is absent.
	ExpiresAt(ctx context.Context, key string) (time.Time, error)
}

// ErrNoLister is returned by Manager.Scan of every session when the
// Backend cannot list its keys (memcached): scan one user's sessions
// instead, which their index lists.
var ErrNoLister = errors.New("cloakroom: the backend cannot list its keys")

// Stored is a stored session as an operator sees it (Manager.Scan). It
// never holds the session's id.
type Stored struct {
	// Handle names the session as Manager.Sessions does. It is empty for
	// a session stored under a hashed key (HashKeys) that no user's index
	// lists, since only the id, which the store no longer holds, tells it.
	Handle  string
	Owner   string         // "" when the session has none
	Size    int            // the encoded session's bytes in the Backend
	Data    map[string]any // decoded, the core's own keys included
	Expires time.Time      // when the Backend drops it; zero when it never does or cannot tell (see Expirer)

	key string
}

// Scan yields the live sessions of user, as their index lists them, or
// every live session when user is empty, which needs a Backend that is a
// Lister (ErrNoLister otherwise). A session that cannot be read or decoded
// is yielded with the error, and the scan goes on; the backend's failing
// to list ends it. Revoked sessions and the Manager's own keys are left
// out. It writes nothing, extends nothing and reports no event.
func (m *Manager) Scan(ctx context.Context, user string) iter.Seq2[Stored, error] {
	return func(yield func(Stored, error) bool) {
		if m.via != nil {
			yield(Stored{}, ErrNoBackend)
			return
		}
		if user != "" {
			m.scanIndex(ctx, user, yield)
			return
		}
		l, ok := m.Backend.(Lister)
		if !ok {
			yield(Stored{}, ErrNoLister)
			return
		}
		for key, err := range l.Keys(ctx, m.KeyPrefix) {
			if err != nil {
				yield(Stored{}, backendError("list sessions", m.KeyPrefix, err))
				return
			}
			handle, ok := m.handleOfKey(key)
			if !ok {
				continue
			}
			if st, err := m.inspect(ctx, key, handle); !errors.Is(err, ErrNotFound) && !yield(st, err) {
				return
			}
		}
	}
}

// scanIndex yields the live sessions that user's index lists.
func (m *Manager) scanIndex(ctx context.Context, user string, yield func(Stored, error) bool) {
	key := indexKey(user)
	b, err := m.Backend.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return
	}
	if err != nil {
		yield(Stored{}, backendError("read the user's sessions", key, err))
		return
	}
	var es []entry
	if err := json.Unmarshal(b, &es); err != nil {
		yield(Stored{}, fmt.Errorf("%w: the user's index: %w", ErrCorrupt, err))
		return
	}
	for _, e := range es {
		if st, err := m.inspect(ctx, e.Key, e.Handle); !errors.Is(err, ErrNotFound) && !yield(st, err) {
			return
		}
	}
}

// handleOfKey returns the handle of the session stored under key, and
// whether key holds a session of the Manager's at all.
func (m *Manager) handleOfKey(key string) (string, bool) {
	if strings.HasPrefix(key, indexPrefix) {
		return "", false
	}
	rest, ok := strings.CutPrefix(key, m.KeyPrefix)
	switch {
	case !ok:
		return "", false
	case m.HashKeys:
		return "", true
	case !m.ids().Valid(rest):
		return "", false
	}
	return handleOf(rest), true
}

// inspect reads the session stored under key; ErrNotFound for one that is
// gone or revoked.
func (m *Manager) inspect(ctx context.Context, key, handle string) (Stored, error) {
	st := Stored{Handle: handle, key: key}
	b, err := m.Backend.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return st, err
		}
		return st, backendError("read session", key, err)
	}
	st.Size = len(b)
	if st.Data, err = m.codec().Decode(b); err != nil {
		return st, fmt.Errorf("%w: session %s: %w", ErrCorrupt, LogID(key), err)
	}
	if revoked(mapValues(st.Data)) {
		return st, ErrNotFound
	}
	st.Owner = ownerOf(mapValues(st.Data), m.ownerKey())
	if e, ok := m.Backend.(Expirer); ok {
		if st.Expires, err = e.ExpiresAt(ctx, key); err != nil {
			return st, backendError("read session expiry", key, err)
		}
	}
	return st, nil
}

// End ends a session that Scan found, as Revoke does: its next request
// gets a new session whose Reason is Revoked, and its owner's index no
// longer lists it.
func (m *Manager) End(ctx context.Context, st Stored) error {
	if st.Owner != "" && st.Handle != "" {
		err := m.Revoke(ctx, st.Owner, st.Handle)
		if !errors.Is(err, ErrUnknownSession) {
			return err
		}
		// Not in the index (a Python peer's session): end it by its key.
	}
	return m.end(ctx, st.Owner, []entry{{Handle: st.Handle, Key: st.key}})
}
