package core

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// keyOwner is where a session records its owner, unless a preset names
// the key its peer uses (the Django preset: "_auth_user_id").
const keyOwner = "_owner"

// ErrUnknownSession is returned by Revoke for a handle that names no live
// session of the user.
var ErrUnknownSession = errors.New("cloakroom: no such session of this user")

// Device describes one live session of a user, as Manager.Sessions lists
// them. It never holds the session's id: Handle names the session for
// Revoke, and cannot be turned into its id.
type Device struct {
	Handle    string
	Created   time.Time // when the user's session began (a login)
	LastSeen  time.Time // when the session was last written or extended
	Addr      string    // the client address that began it, "" when unknown
	UserAgent string    // the User-Agent that began it
}

// SetOwner makes user the session's owner, typically at login. The
// Manager then keeps the session in the user's index, where Sessions lists
// it and Revoke, RevokeAll and MaxSessionsPerUser end it, from any Manager
// that shares the Backend. Regenerate keeps the owner; an empty user
// removes it.
func (s *Session) SetOwner(user string) {
	if user == "" {
		s.change(op{kind: opDelete, key: s.m.ownerKey()})
		return
	}
	s.change(op{kind: opSet, key: s.m.ownerKey(), value: user})
}

// Owner returns the session's owner, "" when it has none.
func (s *Session) Owner() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner()
}

// owner returns the owner in s.data; the caller holds s.mu.
func (s *Session) owner() string {
	return ownerOf(s.vals, s.m.ownerKey())
}

func ownerOf(data values, key string) string {
	switch v := data.get(key).(type) {
	case string:
		return v
	case int64: // a Django user id stored as a number
		return fmt.Sprint(v)
	}
	return ""
}

// Handle returns the session's handle: what Sessions lists it under and
// Revoke takes. It is a hash of the id, so that a listing shown to the
// user or an operator opens no session.
func (s *Session) Handle() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return handleOf(s.id)
}

func handleOf(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("cloakroom handle\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// ownerKey returns the data key that holds a session's owner.
func (m *Manager) ownerKey() string {
	if m.owner != "" {
		return m.owner
	}
	return keyOwner
}

// indexKey is where the index of a user's sessions is kept: outside every
// Manager's KeyPrefix, so that Managers that share the Backend share it,
// and short enough for the Django table's 40-character keys.
func indexKey(user string) string {
	sum := sha256.Sum256([]byte(user))
	return indexPrefix + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// indexPrefix starts the keys of users' indexes.
const indexPrefix = "cloakroom:owner:"

// entry is one session in a user's index.
type entry struct {
	Handle    string `json:"h"`
	Key       string `json:"k"` // the session's backend key
	Created   int64  `json:"c"`
	LastSeen  int64  `json:"s"`
	Addr      string `json:"a,omitempty"`
	UserAgent string `json:"u,omitempty"`
}

func (e entry) device() Device {
	return Device{
		Handle: e.Handle, Created: time.Unix(e.Created, 0), LastSeen: time.Unix(e.LastSeen, 0),
		Addr: e.Addr, UserAgent: e.UserAgent,
	}
}

// maxEntries bounds a user's index: past it, entries whose sessions are
// gone are pruned before another is added.
const maxEntries = 64

// revoked reports whether data is a revoked session's tombstone, which
// holds nothing else but, decoded by a codec that adds it (Django's),
// "_permanent": the length check spares most loads a lookup.
func revoked(data values) bool {
	return data.len() <= 2 && data.get(keyRevoked) == true
}

// Sessions lists the live sessions of user, oldest first, on every
// Manager that shares the Backend. Sessions that expired or were ended
// drop out as the listing finds them gone. A Manager that keeps sessions
// in cookies has no such list: Sessions, Revoke and RevokeAll return
// ErrNoBackend.
func (m *Manager) Sessions(ctx context.Context, user string) (_ []Device, err error) {
	ctx, done := m.observe(ctx, StepList)
	defer func() { done(err) }()
	var devices []Device
	err = m.updateIndex(ctx, user, func(es []entry) ([]entry, error) {
		live, err := m.live(ctx, es)
		devices = devices[:0]
		for _, e := range live {
			devices = append(devices, e.device())
		}
		return live, err
	})
	return devices, err
}

// Revoke ends the session of user that handle names: its next request gets
// a new, empty session (whose Reason is Revoked), and a request in flight
// on it writes nothing back. It returns ErrUnknownSession when user has no
// such live session.
func (m *Manager) Revoke(ctx context.Context, user, handle string) error {
	n, err := m.revokeWhere(ctx, user, func(e entry) bool { return e.Handle == handle })
	if err == nil && n == 0 {
		return ErrUnknownSession
	}
	return err
}

// RevokeAll ends every session of user but the one whose handle is keep
// ("" ends them all: log out everywhere), and reports how many it ended.
// Call it after a password change with the current session's Handle.
func (m *Manager) RevokeAll(ctx context.Context, user, keep string) (int, error) {
	return m.revokeWhere(ctx, user, func(e entry) bool { return e.Handle != keep })
}

// revokeWhere takes the sessions of user that end selects out of the index
// and ends them.
func (m *Manager) revokeWhere(ctx context.Context, user string, end func(entry) bool) (_ int, err error) {
	ctx, done := m.observe(ctx, StepRevoke)
	defer func() { done(err) }()
	var ended []entry
	err = m.updateIndex(ctx, user, func(es []entry) ([]entry, error) {
		live, err := m.live(ctx, es)
		if err != nil {
			return nil, err
		}
		ended = ended[:0]
		kept := live[:0:0]
		for _, e := range live {
			if end(e) {
				ended = append(ended, e)
			} else {
				kept = append(kept, e)
			}
		}
		return kept, nil
	})
	if err != nil {
		return 0, err
	}
	return len(ended), m.end(ctx, user, ended)
}

// end marks the sessions of entries revoked: their data is replaced by a
// tombstone, so that their next request can tell the user why the session
// is new, and a request in flight on one finds it changed and writes
// nothing back.
func (m *Manager) end(ctx context.Context, user string, entries []entry) error {
	tomb, err := m.encode(map[string]any{keyRevoked: true})
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if err := m.Backend.Set(ctx, e.Key, tomb, m.Lifetime); err != nil {
			errs = append(errs, backendError("revoke session", e.Key, err))
			continue
		}
		m.emit(ctx, Event{Kind: EventRevoked, Handle: e.Handle, Owner: user})
	}
	return errors.Join(errs...)
}

// live returns the entries whose sessions are still stored and not revoked.
func (m *Manager) live(ctx context.Context, es []entry) ([]entry, error) {
	kept := es[:0:0]
	for _, e := range es {
		b, err := m.Backend.Get(ctx, e.Key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, backendError("list sessions", e.Key, err)
		}
		if data, err := m.codec().Decode(b); err == nil && revoked(mapValues(data)) {
			continue
		}
		kept = append(kept, e)
	}
	return kept, nil
}

// updateIndex reads user's index, lets change rewrite its entries and
// stores the result, conditionally when the Backend allows, so that
// concurrent logins of one user from several processes all count.
func (m *Manager) updateIndex(ctx context.Context, user string, change func([]entry) ([]entry, error)) error {
	if m.via != nil {
		return ErrNoBackend // cookie sessions are known to nobody but their client
	}
	key := indexKey(user)
	c, conditional := m.Backend.(Conditional)
	a := m.attempts(ctx)
	defer a.done()
	for {
		var b []byte
		var version Version
		var err error
		if conditional {
			b, version, err = c.GetVersion(a.ctx, key)
		} else {
			b, err = m.Backend.Get(a.ctx, key)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return backendError("read the user's sessions", key, err)
		}
		var es []entry
		if len(b) > 0 {
			if err := json.Unmarshal(b, &es); err != nil {
				es = nil // an index lost is rebuilt by the next logins
			}
		}
		before := slices.Clone(es)
		if es, err = change(es); err != nil {
			return err
		}
		if slices.Equal(es, before) {
			return nil
		}
		err = m.writeIndex(a.ctx, c, conditional, key, version, es)
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if err := a.again("update the user's sessions", key, err); err != nil {
			return err
		}
	}
}

// writeIndex stores a user's entries, or deletes the index when none are
// left. The index has no expiry of its own: a session that is kept alive
// must stay in it however long that is; entries of sessions that are gone
// are pruned when it is read.
func (m *Manager) writeIndex(ctx context.Context, c Conditional, conditional bool, key string, version Version, es []entry) error {
	var err error
	switch {
	case len(es) == 0 && conditional && version != nil:
		err = c.DeleteIf(ctx, key, version)
	case len(es) == 0:
		err = m.Backend.Delete(ctx, key)
	default:
		b, jerr := json.Marshal(es)
		if jerr != nil {
			return jerr
		}
		if conditional {
			err = c.SetIf(ctx, key, version, b, 0)
		} else {
			err = m.Backend.Set(ctx, key, b, 0)
		}
	}
	switch {
	case err == nil, errors.Is(err, ErrConflict):
		return err
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: the index was deleted meanwhile", ErrConflict)
	}
	return backendError("update the user's sessions", key, err)
}

// listing is what a save changes in the index: the session that was
// listed as old under the owner before, and is listed as now after.
type listing struct {
	owner string
	id    string
}

// unlisted is where every session that no index lists points its listed
// field, so that only owned sessions pay for a listing of their own. It
// is never written through.
var unlisted listing

// relist moves s in the index after a save: from its owner and id at load
// to its owner and id now. A session that keeps both costs nothing. The
// caller holds s.mu.
func (st store) relist(ctx context.Context, s *Session, was listing) error {
	m := st.m
	now := listing{}
	if s.stored {
		now = listing{owner: s.owner(), id: s.id}
	}
	if now == was {
		return nil
	}
	t := m.now().Unix()
	fresh := entry{Created: t, LastSeen: t}
	if was.owner != "" {
		old := handleOf(was.id)
		err := m.updateIndex(ctx, was.owner, func(es []entry) ([]entry, error) {
			return slices.DeleteFunc(es, func(e entry) bool {
				if e.Handle != old {
					return false
				}
				if was.owner == now.owner {
					fresh = e // Regenerate keeps the device's history
					fresh.LastSeen = t
				}
				return true
			}), nil
		})
		if err != nil {
			return err
		}
	}
	if now.owner == "" {
		s.listed = &unlisted
		return nil
	}
	s.listed = &now
	fresh.Handle, fresh.Key = handleOf(now.id), m.key(now.id)
	if fresh.Addr == "" && s.from != nil {
		if a := m.ClientAddr(s.from); a.IsValid() {
			fresh.Addr = a.String()
		}
		fresh.UserAgent = truncate(s.from.RequestHeader("User-Agent"), 256)
	}
	var over []entry
	err := m.updateIndex(ctx, now.owner, func(es []entry) ([]entry, error) {
		others := slices.DeleteFunc(es, func(e entry) bool { return e.Handle == fresh.Handle })
		limit := m.MaxSessionsPerUser - 1 // the others beside this one
		if len(others) >= maxEntries || limit >= 0 && len(others) > limit {
			live, err := m.live(ctx, others)
			if err != nil {
				return nil, err
			}
			others = live
		}
		over = nil
		if limit >= 0 && len(others) > limit {
			// The cap ends the oldest logins first, never this one.
			slices.SortStableFunc(others, func(a, b entry) int { return cmp.Compare(a.Created, b.Created) })
			over = slices.Clone(others[:len(others)-limit])
			others = others[len(others)-limit:]
		}
		return append(others, fresh), nil
	})
	if err != nil {
		return err
	}
	return m.end(ctx, now.owner, over)
}

// seenInterval is how often a write updates the device's LastSeen; an
// idle session's touch, throttled by TouchInterval, updates it too.
const seenInterval = time.Minute

// seenKey is the touch log's key for when a session was last seen.
func seenKey(id string) string { return "seen\x00" + id }

// seen records that the session listed as l was used at now.
func (m *Manager) seen(ctx context.Context, l listing, now time.Time) error {
	h := handleOf(l.id)
	return m.updateIndex(ctx, l.owner, func(es []entry) ([]entry, error) {
		for i := range es {
			if es[i].Handle == h {
				es[i].LastSeen = now.Unix()
			}
		}
		return es, nil
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
