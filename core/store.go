package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cloakroom/cloakroom/internal/keylock"
)

// ErrInterrupted is returned when a session was deleted by another request
// (logout, Regenerate, revocation, expiry) while this request was using it:
// its changes are not written back, so that the deleted session stays
// deleted. Django calls it SessionInterrupted.
var ErrInterrupted = errors.New("cloakroom: session was deleted by another request")

// lockPatience bounds a save's wait for a turn that stops changing hands:
// turns only spare conflicts, so it goes ahead rather than wait on a frozen store.
const lockPatience = 200 * time.Millisecond

// store keeps sessions in the Manager's Backend, the cookie holding only
// the id.
type store struct{ m *Manager }

func (st store) newID() string { return st.m.ids().NewID() }

func (st store) accepts(token string) bool {
	return len(token) <= maxTokenSize && st.m.ids().Valid(st.m.cookieID(token))
}

func (st store) open(ctx context.Context, value string, into *Session) (*Session, error) {
	id := st.m.cookieID(value)
	if value != "" && id == "" {
		s := st.m.fresh(ctx, "", into)
		s.reason = InvalidToken // its signature did not verify
		return s, nil
	}
	return st.load(ctx, id, into)
}

// load reads the session stored under id, with one backend call, making it
// in into when that is not nil.
func (st store) load(ctx context.Context, id string, into *Session) (*Session, error) {
	ctx, done := st.m.observe(ctx, StepLoad)
	s, err := st.read(ctx, id, into)
	done(err)
	return s, err
}

func (st store) read(ctx context.Context, id string, into *Session) (*Session, error) {
	m := st.m
	if !m.ids().Valid(id) {
		s := m.fresh(ctx, "", into)
		if id != "" {
			s.reason = InvalidToken
		}
		return s, nil
	}
	key := m.key(id)
	bctx, cancel := m.bounded(ctx)
	b, version, err := st.get(bctx, key)
	cancel()
	if errors.Is(err, ErrNotFound) {
		if m.OnEvent != nil {
			m.emit(ctx, Event{Kind: EventExpired, Handle: handleOf(id)})
		}
		s := m.fresh(ctx, "", into)
		s.reason = Expired
		return s, nil
	}
	if err != nil {
		return nil, backendError("load session", key, err)
	}
	if into == nil {
		into = new(Session)
	}
	data, err := m.decode(b, into.fields[:])
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		if m.StrictDecode {
			return nil, err
		}
		m.report(ctx, err)
		return m.replaced(ctx, id, InvalidToken, into), nil
	}
	if revoked(data) {
		// The tombstone stays, and so does the client's token, until the
		// client's new session is written: every request until then can
		// tell the user why.
		s := m.fresh(ctx, "", into)
		s.reason = Revoked
		return s, nil
	}
	if m.AbsoluteTimeout > 0 && !m.now().Before(m.deadline(data)) {
		return m.replaced(ctx, id, Expired, into), nil
	}
	s := newSession(into, m, ctx, id, data, version, true)
	s.key = key
	m.emitFor(ctx, EventLoaded, s)
	return s, nil
}

// get reads key, with its version when the backend can give one.
func (st store) get(ctx context.Context, key string) ([]byte, Version, error) {
	if l, ok := st.m.Backend.(Lender); ok && st.m.decodesFields() {
		return l.LendVersion(ctx, key) // decode copies what it keeps
	}
	if c, ok := st.m.Backend.(Conditional); ok {
		return c.GetVersion(ctx, key)
	}
	b, err := st.m.Backend.Get(ctx, key)
	return b, nil, err
}

// outcome says what a save did to the backend.
type outcome int

const (
	wroteNothing  outcome = iota
	wroteData             // the session was written under its id
	wroteDeletion         // stored data was deleted
)

func (st store) save(ctx context.Context, s *Session) (tokenAction, string, error) {
	out, err := st.write(ctx, s)
	switch {
	case err != nil:
		return tokenKeep, "", err
	case out == wroteData || s.unsent && s.stored:
		// Written now, or by an earlier save in the request (IncrNow).
		s.unsent = false
		return tokenSet, st.m.signedID(s.id), nil
	case !s.stored && s.reason != Revoked:
		// The client's id is gone or was never ours: stop it coming back.
		return tokenDrop, "", nil
	}
	return tokenKeep, "", nil
}

// write saves s, conditionally when the backend allows, within the
// Manager's BackendTimeout. The caller holds s.mu.
func (st store) write(ctx context.Context, s *Session) (outcome, error) {
	if st.m.Observe == nil && !st.due(s) {
		return wroteNothing, nil // spares most reads the save's set-up
	}
	ctx, done := st.m.observe(ctx, StepSave)
	out, err := st.writeBounded(ctx, s)
	done(err)
	return out, err
}

// due reports whether a save of s has anything to do: data to write or
// delete, an id to drop, or an idle timeout that may need extending. It
// must hold wherever writeOnce or writeBlind would do anything.
func (st store) due(s *Session) bool {
	return s.modified || s.prior != "" || s.stale != "" || s.stored && st.m.mayIdle()
}

func (st store) writeBounded(ctx context.Context, s *Session) (outcome, error) {
	if err := st.admit(s); err != nil {
		return wroteNothing, err
	}
	ctx, cancel := st.m.bounded(ctx)
	defer cancel()
	a := st.m.attempts(ctx)
	defer a.done()
	m := st.m
	out, err := st.writeData(a, s)
	if errors.Is(err, ErrInterrupted) {
		m.emitFor(ctx, EventInterrupted, s)
	}
	if err != nil || out == wroteNothing {
		return out, err
	}
	// A session that wrote was noted at its first change; one that was
	// not changed (a stale id dropped) is listed as it was loaded.
	s.noteListing()
	was := *s.listed
	if was.owner == "" && s.owner() == "" {
		return out, nil
	}
	if err := st.relist(a.ctx, s, was); err != nil {
		return out, err
	}
	if now, key := m.now(), seenKey(s.id); *s.listed == was && m.touches.Due(key, now, seenInterval) {
		// A write shows the device in use; say so at most once a minute.
		m.touches.Record(key, now, seenInterval)
		return out, m.seen(a.ctx, was, now)
	}
	return out, nil
}

// writeData saves s's data, conditionally when the backend allows.
//
// Saves of one stored session in this process take turns, so that they do
// not conflict with each other; a save that waited for its turn starts
// from what the previous holder wrote, which that one left in the turn's
// Note, and makes the saves queued behind it in the same write
// (combine.go). Only writes of other processes (or of a peer) conflict,
// and are then read again.
func (st store) writeData(a *attempts, s *Session) (outcome, error) {
	c, ok := st.m.Backend.(Conditional)
	if !ok {
		return st.writeBlind(a.ctx, s) // Save and the request's load reported it
	}
	if !s.stored && s.prior == "" || !s.modified && s.prior == "" {
		// A new id competes with nobody, and an unchanged session writes at
		// most a touch: neither needs to wait for a turn.
		return st.writeOnce(a.ctx, c, s)
	}
	key := cmp.Or(s.prior, s.id) // the stored session s competes for
	for {
		turn, served := st.m.turns.Join(a.ctx, key, cmp.Or(st.m.patience, lockPatience), offer(s))
		if served && s.joined {
			return wroteData, nil
		}
		if served && s.lost != nil {
			return wroteNothing, s.lost
		}
		var out outcome
		err := ErrConflict // served but not made: the holder's write failed
		if !served {
			out, err = st.writeTurn(a.ctx, c, s, turn, key)
			if !errors.Is(err, ErrConflict) {
				return out, err
			}
			st.m.emitFor(a.ctx, EventConflict, s)
		}
		s.version = nil // read it again
		if err := a.again("save session", st.m.key(key), err); err != nil {
			return out, err
		}
	}
}

// writeTurn makes s's save in its turn (nil when it gave up waiting), with
// those of the waiters it can make along, and leaves the next holder what
// it wrote.
func (st store) writeTurn(ctx context.Context, c Conditional, s *Session, turn *keylock.Lock, key string) (outcome, error) {
	if turn == nil {
		return st.writeOnce(ctx, c, s)
	}
	defer st.m.turns.Release(turn)
	if err := st.takeOver(s, turn); err != nil {
		return wroteNothing, err
	}
	var jobs []keylock.Job
	if joinable(s) {
		jobs = st.m.turns.Serve(turn)
	}
	if len(jobs) > 0 {
		out, next, err := st.writeJoined(ctx, c, s, jobs)
		st.handOver(turn, next) // before the waiters go on with their data
		for _, j := range jobs {
			j.Done()
		}
		return out, err
	}
	out, err := st.writeOnce(ctx, c, s)
	var next handoff
	if err == nil && s.stored && s.id == key {
		next = handoff{version: s.version, data: s.data()}
	}
	st.handOver(turn, next)
	return out, err
}

// handoff is what a save leaves in its turn's Note for the next save of
// the same session in this process: the data it wrote and its version.
type handoff struct {
	version Version
	data    map[string]any
}

// handOver leaves the next holder of turn what was written, when someone
// waits and its version is known (the backend tells it without a read).
// The data is copied while the session it belongs to is still locked: its
// handler may go on changing it.
func (st store) handOver(turn *keylock.Lock, next handoff) {
	turn.Note = nil
	if next.version != nil && st.m.turns.Queued(turn) {
		turn.Note = handoff{version: next.version, data: maps.Clone(next.data)}
	}
}

// takeOver rebases s on what the previous holder of turn wrote, if it left
// it: s's changes are applied to that data, and the write is conditioned
// on its version, with no read.
func (st store) takeOver(s *Session, turn *keylock.Lock) error {
	h, ok := turn.Note.(handoff)
	if !ok {
		return nil
	}
	turn.Note = nil // the data is s's from now on
	if err := s.replay(h.data); err != nil {
		return err
	}
	s.version = h.version
	return nil
}

// admit charges a new session that is about to be stored for the first
// time to its client's budget (Manager.NewSessionsPerClient), once.
func (st store) admit(s *Session) error {
	m := st.m
	if m.NewSessionsPerClient <= 0 || s.from == nil || s.paid || s.stored || s.prior != "" || !s.modified || s.empty() {
		return nil
	}
	client := m.ClientAddr(s.from)
	if !client.IsValid() {
		return nil
	}
	if !m.budget.Allow(client, m.now(), m.NewSessionsPerClient) {
		return fmt.Errorf("%w: more than %d a minute from one client", ErrTooManySessions, m.NewSessionsPerClient)
	}
	s.paid = true // its retries are free
	return nil
}

// writeOnce makes one attempt at a conditional save: it deletes the id that
// Regenerate or Destroy left, then writes or deletes the session under its
// id. Each step fails with ErrConflict when another request got there
// first, and the whole attempt is then made again on fresh data.
func (st store) writeOnce(ctx context.Context, c Conditional, s *Session) (outcome, error) {
	m := st.m
	if s.modified || s.prior != "" {
		if err := st.refresh(ctx, c, s); err != nil {
			return wroteNothing, err
		}
	}
	out := st.dropStale(ctx, s)
	moved := s.prior
	if moved != "" {
		if err := c.DeleteIf(ctx, m.key(s.prior), s.version); err != nil {
			return out, conditionalError("delete replaced session", m.key(s.prior), err)
		}
		s.prior, s.version, out = "", nil, wroteDeletion
	}
	switch {
	case s.modified && !s.empty():
		kind := savedKind(s, moved)
		out, err := st.put(ctx, c, s)
		if err == nil {
			m.emitFor(ctx, kind, s)
		}
		return out, err
	case s.modified && s.stored:
		err := c.DeleteIf(ctx, s.storeKey(), s.version)
		if err != nil && !errors.Is(err, ErrNotFound) { // gone is what we wanted
			return out, conditionalError("delete session", s.storeKey(), err)
		}
		s.stored, s.version, out = false, nil, wroteDeletion
		m.emitDestroyed(ctx, s, s.id)
	case moved != "" && !s.stored:
		m.emitDestroyed(ctx, s, moved)
	case s.stored && m.mayIdle():
		if err := st.touch(ctx, s); err != nil {
			return out, err
		}
	}
	s.saved()
	return out, nil
}

// savedKind is the event a write of s reports: moved is the id that
// Regenerate left, if any. Call it before the write marks s stored.
func savedKind(s *Session, moved string) EventKind {
	switch {
	case moved != "":
		return EventRegenerated
	case !s.stored:
		return EventCreated
	}
	return EventSaved
}

// put writes the session's data under its id: over the version it was read
// with, or, for a new id, only if the id is free.
func (st store) put(ctx context.Context, c Conditional, s *Session) (outcome, error) {
	m := st.m
	b, err := m.encode(s.data())
	if err != nil {
		return wroteNothing, err
	}
	version := s.version
	if !s.stored {
		version = nil
	}
	ttl := m.ttl(s.vals)
	err = c.SetIf(ctx, s.storeKey(), version, b, ttl)
	for tries := 0; !s.stored && errors.Is(err, ErrConflict) && tries < 3; tries++ {
		s.setID(st.newID()) // a new id that is taken: take another
		err = c.SetIf(ctx, s.storeKey(), nil, b, ttl)
	}
	if err != nil {
		return wroteNothing, conditionalError("save session", s.storeKey(), err)
	}
	st.wrote(s, b)
	return wroteData, nil
}

// refresh reads the session again after a conflict, and applies this
// request's changes to what it finds.
func (st store) refresh(ctx context.Context, c Conditional, s *Session) error {
	from := s.prior
	if from == "" {
		if !s.stored {
			return nil // a new session: nothing stored to compete with
		}
		from = s.id
	}
	if s.version != nil {
		return nil
	}
	b, version, err := c.GetVersion(ctx, st.m.key(from))
	if err != nil {
		return conditionalError("reload session", st.m.key(from), err)
	}
	fresh, err := st.m.codec().Decode(b)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if revoked(mapValues(fresh)) {
		return fmt.Errorf("%w (revoked)", ErrInterrupted)
	}
	if err := s.replay(fresh); err != nil {
		return err
	}
	s.version = version
	return nil
}

// writeBlind saves s over whatever is stored, for backends that are not
// Conditional.
func (st store) writeBlind(ctx context.Context, s *Session) (outcome, error) {
	m := st.m
	out := st.dropStale(ctx, s)
	moved := s.prior
	if moved != "" {
		if err := m.Backend.Delete(ctx, m.key(s.prior)); err != nil {
			return out, backendError("delete replaced session", m.key(s.prior), err)
		}
		s.prior, out = "", wroteDeletion
	}
	switch {
	case s.modified && !s.empty():
		b, err := m.encode(s.data())
		if err != nil {
			return out, err
		}
		if err := m.Backend.Set(ctx, s.storeKey(), b, m.ttl(s.vals)); err != nil {
			return out, backendError("save session", s.storeKey(), err)
		}
		kind := savedKind(s, moved)
		st.wrote(s, b)
		m.emitFor(ctx, kind, s)
		return wroteData, nil
	case s.modified && s.stored:
		if err := m.Backend.Delete(ctx, s.storeKey()); err != nil {
			return out, backendError("delete session", s.storeKey(), err)
		}
		s.stored, out = false, wroteDeletion
		m.emitDestroyed(ctx, s, s.id)
	case moved != "" && !s.stored:
		m.emitDestroyed(ctx, s, moved)
	case s.stored && m.mayIdle():
		if err := st.touch(ctx, s); err != nil {
			return out, err
		}
	}
	s.saved()
	return out, nil
}

// dropStale deletes the stored session that s replaced because it was not
// to be trusted (unknown after expiry, another client's address, corrupt).
// Failing to is not worth failing the request: the data is unreachable
// through s, and the backend's expiry removes it in the end.
func (st store) dropStale(ctx context.Context, s *Session) outcome {
	if s.stale == "" {
		return wroteNothing
	}
	if err := st.m.Backend.Delete(ctx, st.m.key(s.stale)); err != nil {
		st.m.report(ctx, backendError("delete replaced session", st.m.key(s.stale), err))
	}
	s.stale = ""
	return wroteDeletion
}

// wrote notes that s is now stored under its id as b (nil when what is
// stored is more than s's data), and that the client is yet to get its
// token.
func (st store) wrote(s *Session, b []byte) {
	if idle := st.m.idle(s.vals); idle > 0 {
		st.m.touches.Record(s.id, st.m.now(), st.m.touchInterval(idle))
	}
	s.stored, s.version, s.unsent = true, nil, true
	if b != nil {
		s.version = st.versionOf(b)
	}
	s.saved()
}

// versionOf returns the version the backend gives b once stored, nil when
// only a read can tell.
func (st store) versionOf(b []byte) Version {
	if v, ok := st.m.Backend.(Versioner); ok {
		return v.VersionOf(b)
	}
	return nil
}

// touch extends the expiry of a session with an idle timeout if it was
// not extended within the last TouchInterval. Backends that cannot Touch
// get the data rewritten.
func (st store) touch(ctx context.Context, s *Session) error {
	m := st.m
	l := m.limits(s.vals)
	if l.idle <= 0 {
		return nil
	}
	now, every := m.now(), m.touchInterval(l.idle)
	if !m.touches.Due(s.id, now, every) {
		return nil
	}
	key, ttl := s.storeKey(), l.ttl(now)
	var err error
	if t, ok := m.Backend.(Toucher); ok {
		err = t.Touch(ctx, key, ttl)
	} else {
		var b []byte
		if b, err = m.encode(s.data()); err == nil {
			err = st.rewrite(ctx, key, s.version, b, ttl)
		}
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
		return backendError("extend idle session", key, err)
	}
	if err == nil {
		m.emitFor(ctx, EventTouched, s)
	}
	m.touches.Record(s.id, now, every)
	if s.noteListing(); err == nil && s.listed.owner != "" {
		return m.seen(ctx, *s.listed, now)
	}
	return nil
}

// rewrite stores unchanged data again to extend its expiry. On a
// Conditional backend it never overwrites another request's write (which
// extended the expiry anyway) nor revives a deleted session.
func (st store) rewrite(ctx context.Context, key string, version Version, b []byte, ttl time.Duration) error {
	if c, ok := st.m.Backend.(Conditional); ok && version != nil {
		return c.SetIf(ctx, key, version, b, ttl)
	}
	return st.m.Backend.Set(ctx, key, b, ttl)
}

// conditionalError classifies a failed conditional step: a conflict is
// retried by the caller, a missing session means another request deleted
// it, anything else is the backend failing.
func conditionalError(op, key string, err error) error {
	switch {
	case errors.Is(err, ErrConflict):
		return err
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w (%s)", ErrInterrupted, op)
	}
	return backendError(op, key, err)
}
