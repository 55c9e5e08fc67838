package core

import (
	"context"
	"errors"
	"maps"

	"github.com/cloakroom/cloakroom/internal/keylock"
)

// Saves of one session that queue behind each other in one process are
// made together: the save that gets the turn applies the changes of those
// still waiting after its own and writes the result once for all of them.
// A store's round trip then serves as many saves as arrived while the one
// before it was in flight, so one busy session is not held to one save per
// round trip. Each waiter gets its own view back (the data as it was right
// after its own changes), so that IncrNow hands out distinct numbers.

// joinable reports whether s's save is a plain write of a stored
// session's data, the kind one save can make for another.
func joinable(s *Session) bool {
	return s.stored && s.modified && s.prior == "" && s.stale == "" && !s.empty()
}

// offer returns what s's save offers the turn's holder: s itself when the
// holder may make its save, untyped nil otherwise. The caller holds s.mu.
func offer(s *Session) any {
	if !joinable(s) {
		return nil
	}
	s.joined, s.lost = false, nil
	return s
}

// writeJoined makes s's save and those of jobs, taken from the waiters of
// s's turn, in one conditional write. The caller holds s.mu, and each
// waiter holds its own session's and waits until its Job is done, which
// the caller tells once it is through with what writeJoined returns: what
// was written, for the next holder of the turn. A waiter whose changes
// were not written (they did not apply to this data, or the write
// conflicted) finds its session not joined and saves on its own, which
// reports why. A write that failed otherwise may have been made: a waiter
// that was in it finds the error in its lost, and fails with it rather
// than make its changes a second time.
func (st store) writeJoined(ctx context.Context, c Conditional, s *Session, jobs []keylock.Job) (outcome, handoff, error) {
	if err := st.refresh(ctx, c, s); err != nil {
		return wroteNothing, handoff{}, err
	}
	m := st.m
	data := s.data()
	var made []*Session
	for _, j := range jobs {
		w := j.Value.(*Session)
		if w.replay(maps.Clone(data)) != nil {
			continue // an Update that fails on this data: its own save says so
		}
		data = w.data()
		made = append(made, w)
	}
	b, err := m.encode(data)
	if err != nil {
		return wroteNothing, handoff{}, err // the waiters try on their own, within their own size
	}
	key := s.storeKey()
	if err := c.SetIf(ctx, key, s.version, b, m.ttl(mapValues(data))); err != nil {
		err = conditionalError("save session", key, err)
		if !errors.Is(err, ErrConflict) {
			for _, w := range made {
				w.lost = err
			}
		}
		return wroteNothing, handoff{}, err
	}
	st.wrote(s, nil) // its data is its own view, not what is stored
	m.emitFor(ctx, EventSaved, s)
	for _, w := range made {
		st.wrote(w, nil)
		w.joined = true
		m.emitFor(ctx, EventSaved, w)
	}
	return wroteData, handoff{version: st.versionOf(b), data: data}, nil
}
