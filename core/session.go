package core

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"

	"github.com/cloakroom/cloakroom/core/codec"
)

// Keys the Manager keeps in the session data beside the application's own.
// They use Quart-Session's names so that a Python peer understands them.
const (
	keyPermanent = "_permanent" // Flask's permanent flag
	keyAddr      = "_addr"      // client address under session protection
	keyCreated   = "_created"   // Unix seconds, for the absolute timeout
	keyRevoked   = "_revoked"   // all that a revoked session's key holds until it is dropped
)

// Reserved reports whether key is one the Manager keeps in the session data
// for itself ("_permanent", "_addr", "_created", the keys of SetExpiry,
// "_lifetime", "_idle" and "_deadline", and "_flashes", which Flash and
// Flashes own). The data API refuses to set, delete or pop them:
// a client that could rewrite "_addr" would defeat session protection,
// "_created" the absolute timeout, and "_flashes" could show the user any
// message in the site's name. Applications that store keys named by their
// users (an API like the demo's) should answer such a request with 400.
func Reserved(key string) bool {
	return bookkeeping(key) || key == keyFlashes || key == keyOwner || key == keyRevoked
}

// bookkeeping reports whether key holds the Manager's notes about the
// session rather than anything of the application's: Keys, All and Len
// leave such keys out, and a session holding only them is empty.
func bookkeeping(key string) bool {
	return key == keyPermanent || key == keyAddr || key == keyCreated || expiryKey(key)
}

// refuse reports an attempt to change a reserved key through the data API
// and returns true; the caller must then change nothing.
func (s *Session) refuse(key string) bool {
	if !Reserved(key) {
		return false
	}
	s.m.report(s.ctx, fmt.Errorf("%w: %q", ErrReservedKey, key))
	return true
}

// Session is one user's session data. Handlers get it from their adapter;
// it is safe for concurrent use by the goroutines of one request.
//
// Changes are tracked by the methods that make them: a value taken out with
// Get and then mutated in place (a map, a slice) is not seen as a change
// until it is stored again with Set. The session remembers each change as
// an operation, so that when another request saved the same session in the
// meantime the Manager can apply this request's changes on top of the other
// one's instead of overwriting them (see Manager).
type Session struct {
	mu      sync.Mutex
	m       *Manager
	ctx     context.Context // the loading request's, for reports of late changes
	id      string
	key     string   // the backend's key for id, once asked for (storeKey); "" until then
	ops     []op     // the changes since load or the last save, in order
	firstOp [1]op    // ops' first array: most requests that write make one change
	version Version  // what the backend held when the session was read; nil when unknown
	prior   string   // the stored id that Regenerate or Destroy left, deleted at the next save
	stale   string   // a stored id this session replaced (unknown owner), deleted at the next save
	from    Exchange // the request that opened the session, for the user index and the new-session budget; nil outside one
	listed  *listing // where the user index lists the session, as far as this request knows; nil until noteListing
	reason  Reason   // why the session is new

	// vals is the data (see data). fields is the first array of its list
	// of keys, so that reading a small session allocates none for it.
	vals   values
	fields [maxFields]codec.Field

	// lost is the error of a write that made this session's save along
	// with its holder's and did not say whether it was made (joined
	// tells a write that was); nil otherwise.
	lost error

	// Flags, together so that a Session, allocated on every request that
	// uses one, stays in a small size class.
	isNew    bool // no stored session was found when this one was loaded
	stored   bool // the backend (or the client's cookie) holds data under id
	modified bool // data changed since load or the last save
	sealed   bool // the response is committed; changes can no longer be saved
	unsent   bool // written under an id whose token the response is yet to send
	joined   bool // its save was made by the holder of its turn (combine.go)
	renew    bool // a cookie session due for signing again, to extend its idle timeout
	paid     bool // counted against its client's new-session budget (Manager.NewSessionsPerClient)
}

// newSession makes a session in into, a zero Session, or in a new one when
// into is nil.
func newSession(into *Session, m *Manager, ctx context.Context, id string, data values, version Version, stored bool) *Session {
	s := into
	if s == nil {
		s = new(Session)
	}
	s.m, s.ctx, s.id, s.vals, s.version, s.stored, s.isNew = m, ctx, id, data, version, stored, !stored
	s.ops = s.firstOp[:0]
	if !stored {
		s.reason = FirstVisit
	}
	return s
}

// Reason says why a request's session is new.
type Reason int

const (
	// NotNew: the session was stored before this request.
	NotNew Reason = iota
	// FirstVisit: the request carried no token (or two different ones).
	FirstVisit
	// Expired: the token named a session that is gone: it expired, was
	// logged out, or was never stored.
	Expired
	// Revoked: the session was ended by Revoke, RevokeAll or
	// MaxSessionsPerUser, from this device or another.
	Revoked
	// InvalidToken: the token was malformed or badly signed, its data
	// could not be decoded, or it belongs to another client address under
	// Protection.
	InvalidToken
)

var reasonNames = [...]string{"not new", "first visit", "expired", "revoked", "invalid token"}

// String returns the reason in words, such as "revoked".
func (r Reason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return "unknown"
	}
	return reasonNames[r]
}

// Reason reports why the session is new (NotNew for a session that was
// stored before this request), so that a page can say "your session
// expired" or "you were logged out from another device". Knowing it costs
// no backend call: the load that found no session found out why.
func (s *Session) Reason() Reason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// ID returns the session id. It changes with Regenerate and Destroy.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// IsNew reports whether no stored session was found for this request.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isNew
}

// IsModified reports whether the session has changes not yet saved.
func (s *Session) IsModified() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modified
}

// Get returns the value stored under key. Numbers come back as int64 or
// float64 whatever type was stored; the typed getters smooth that over.
func (s *Session) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vals.lookup(key)
}

// Set stores value under key. A reserved key (see Reserved) is not set,
// and the attempt is reported to the ErrorHandler.
func (s *Session) Set(key string, value any) {
	if s.refuse(key) {
		return
	}
	s.change(op{kind: opSet, key: key, value: value})
}

// Delete removes key.
func (s *Session) Delete(key string) {
	s.Pop(key)
}

// Pop removes key and returns the value it held. A reserved key (see
// Reserved) is not removed, and the attempt is reported.
func (s *Session) Pop(key string) (any, bool) {
	if s.refuse(key) {
		return nil, false
	}
	s.mu.Lock()
	v, ok := s.vals.lookup(key)
	if !ok {
		s.mu.Unlock()
		return nil, false
	}
	s.unlockChanged(op{kind: opDelete, key: key})
	return v, true
}

// Clear removes every key and the session's own expiry (SetExpiry). A
// cleared session is deleted from the backend and its cookie expired,
// unless new data is set before the response.
func (s *Session) Clear() {
	s.change(op{kind: opClear})
}

// Keys returns the application's keys in sorted order.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, s.vals.len())
	for k := range s.vals.all() {
		if !bookkeeping(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// All yields the application's keys and values in key order. It works on a
// snapshot, so the loop body may change the session.
func (s *Session) All() iter.Seq2[string, any] {
	s.mu.Lock()
	snapshot := maps.Collect(s.vals.all())
	s.mu.Unlock()
	return func(yield func(string, any) bool) {
		for _, k := range slices.Sorted(maps.Keys(snapshot)) {
			if !bookkeeping(k) && !yield(k, snapshot[k]) {
				return
			}
		}
	}
}

// Len returns the number of the application's keys.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLen()
}

func (s *Session) userLen() int {
	// Two loops rather than one over s.vals.all(): a save asks this, and
	// the iterator cost a write about 1,500 instructions (callgrind).
	n := 0
	for k := range s.vals.m {
		if !bookkeeping(k) {
			n++
		}
	}
	for _, f := range s.vals.fields { // empty when m is not nil
		if !bookkeeping(f.Key) {
			n++
		}
	}
	return n
}

// Permanent reports whether the session outlives the browser session: its
// cookie carries an expiry. Sessions are permanent unless configured or set
// otherwise.
func (s *Session) Permanent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, _ := s.vals.get(keyPermanent).(bool)
	return p
}

// SetPermanent sets whether the session's cookie carries an expiry.
func (s *Session) SetPermanent(permanent bool) {
	if permanent {
		s.change(op{kind: opSet, key: keyPermanent, value: true})
	} else {
		s.change(op{kind: opDelete, key: keyPermanent})
	}
}

// Regenerate moves the data to a new id; the old id is deleted when the
// session is saved. Call it whenever privileges change, above all at login,
// so that an id planted before login is worth nothing after. If another
// request deletes or regenerates the same session before this one is saved,
// the save fails with ErrInterrupted instead of forking the session.
func (s *Session) Regenerate() {
	s.mu.Lock()
	s.regenerate()
	s.unlockChanged(op{kind: opNone})
}

// noteListing works out, once and before the first change, where the
// index lists the session as loaded: reads, which change nothing, never
// pay for it. The caller holds s.mu.
func (s *Session) noteListing() {
	if s.listed != nil {
		return
	}
	s.listed = &unlisted
	if s.stored {
		if owner := s.owner(); owner != "" {
			s.listed = &listing{owner: owner, id: s.id}
		}
	}
}

// listedOwner returns the owner whose index lists the session, as far as
// this request knows; the caller holds s.mu.
func (s *Session) listedOwner() string {
	if s.listed == nil {
		return ""
	}
	return s.listed.owner
}

func (s *Session) regenerate() {
	s.noteListing()
	if s.stored && s.prior == "" {
		s.prior = s.id
	}
	s.stored = false
	s.setID(s.m.carrier().newID())
}

// setID gives s a new id, whose key is yet to be built.
func (s *Session) setID(id string) { s.id, s.key = id, "" }

// storeKey returns the backend's key for s's id, built once per id: a
// write after a read needs it again.
func (s *Session) storeKey() string {
	if s.key == "" {
		s.key = s.m.key(s.id)
	}
	return s.key
}

// Destroy deletes the session: its data is removed from the backend and its
// cookie expired when the response is committed. Data set afterwards starts
// a new session with a new id.
func (s *Session) Destroy() {
	s.mu.Lock()
	s.regenerate()
	// What is set afterwards is a session of its own: it starts from the
	// Manager's defaults, not from the destroyed one's choices (a login's
	// SetPermanent(false), its creation time).
	permanent, created := s.m.starting()
	for _, o := range [...]op{
		setOrDelete(keyPermanent, permanent, true),
		setOrDelete(keyCreated, created != 0, created),
	} {
		o.apply(s.data())
		s.ops = append(s.ops, o)
	}
	s.unlockChanged(op{kind: opClear})
}

// change applies o to the data and records it.
func (s *Session) change(o op) {
	s.mu.Lock()
	s.unlockChanged(o)
}

// unlockChanged applies o to the data, records it, marks the session
// modified and releases s.mu, which the caller holds; then it reports the
// change if it can no longer be saved. The report comes after the unlock so
// that an ErrorHandler may use the session.
func (s *Session) unlockChanged(o op) {
	s.noteListing()
	if o.kind != opNone {
		o.apply(s.data())
		s.ops = append(s.ops, o)
	}
	s.modified = true
	late := s.sealed
	s.mu.Unlock()
	if late {
		s.m.report(s.ctx, fmt.Errorf("%w (key %q)", ErrLateChange, o.key))
	}
}

// replay rebuilds the data from fresh, what the backend holds now, by
// applying this request's changes to it again.
func (s *Session) replay(fresh map[string]any) error {
	for _, o := range s.ops {
		if err := o.reapply(fresh); err != nil {
			return err
		}
	}
	s.vals = mapValues(fresh)
	return nil
}

// data returns the session's data as a map, which a change or a save
// needs, building it from the decoded list if that is what vals holds.
// The caller holds s.mu.
func (s *Session) data() map[string]any {
	if s.vals.m == nil {
		s.vals = mapValues(s.vals.asMap())
	}
	return s.vals.m
}

// saved forgets the changes that are now stored.
func (s *Session) saved() {
	s.ops = s.ops[:0]
	s.modified = false
}

// empty reports whether the session holds nothing of the application's.
func (s *Session) empty() bool { return s.userLen() == 0 }
