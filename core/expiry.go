package core

import (
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

// Keys that hold a session's own expiry (Session.SetExpiry), present only
// when it set one. Django's preset writes them as Django's
// "_session_expiry" (see codec.Django).
const (
	keyLifetime = "_lifetime" // seconds after the last write
	keyIdle     = "_idle"     // seconds after the last request; 0: none
	keyDeadline = "_deadline" // Unix seconds
)

// expiryKey reports whether key holds part of a session's own expiry,
// which Clear resets along with the application's keys.
func expiryKey(key string) bool {
	return key == keyLifetime || key == keyIdle || key == keyDeadline
}

// Expiry is a session's own expiry, in place of its Manager's Lifetime and
// IdleTimeout: a longer one for "remember me", a shorter one for a step
// that needs a fresh login. The zero value means the Manager's. The
// Manager's AbsoluteTimeout still ends every session, and a session cannot
// live longer than its Manager allows (see Manager.MaxLifetime).
type Expiry struct {
	// Lifetime is how long the session lives after its last write, in
	// place of Manager.Lifetime; it is also the cookie's Max-Age when the
	// session is permanent. Zero means the Manager's.
	Lifetime time.Duration
	// Idle is how long the session lives after its last request, in place
	// of Manager.IdleTimeout. Zero means the Manager's; negative means
	// none, so that the session lives its Lifetime however rarely it is
	// used. A Manager without an IdleTimeout honours it only up to its
	// MaxLifetime, and without either ignores it: SetExpiry reports that.
	Idle time.Duration
	// Deadline, when set, ends the session at that moment however it is
	// used, as a datetime given to Django's set_expiry does. Without a
	// Lifetime of its own the session lives until then, however rarely
	// it is written, within MaxLifetime (the Manager's Lifetime when
	// unset).
	Deadline time.Time
}

// SetExpiry gives the session its own expiry, which it keeps across
// Regenerate and until Clear, Destroy or SetExpiry(Expiry{}) returns it to
// the Manager's. Durations count whole seconds, rounded up. Call
// SetPermanent(false) beside it for a cookie that ends with the browser
// session. A duration longer than the Manager allows is cut to what it
// allows, and reported as ErrConfig to its ErrorHandler.
func (s *Session) SetExpiry(e Expiry) {
	if e.Idle != 0 && !s.m.mayIdle() {
		s.m.report(s.ctx, fmt.Errorf("%w: a session's own idle timeout needs the Manager's IdleTimeout or MaxLifetime", ErrConfig))
	}
	// Longer than the Manager allows works, cut to what it allows: say so,
	// or "remember me for 30 days" quietly lasts the default 14.
	if most := s.m.longest(s.m.Lifetime); e.Lifetime > most {
		s.m.report(s.ctx, fmt.Errorf("%w: a session's own lifetime of %v is cut to %v; raise the Manager's MaxLifetime", ErrConfig, e.Lifetime, most))
	}
	if most := s.m.longest(s.m.IdleTimeout); e.Idle > most && s.m.mayIdle() {
		s.m.report(s.ctx, fmt.Errorf("%w: a session's own idle timeout of %v is cut to %v; raise the Manager's MaxLifetime", ErrConfig, e.Idle, most))
	}
	s.mu.Lock()
	s.noteListing() // before the first change, as unlockChanged does
	for _, o := range [...]op{
		setOrDelete(keyLifetime, e.Lifetime > 0, seconds(e.Lifetime)),
		setOrDelete(keyIdle, e.Idle != 0, max(seconds(e.Idle), 0)),
		setOrDelete(keyDeadline, !e.Deadline.IsZero(), e.Deadline.Unix()),
	} {
		o.apply(s.data())
		s.ops = append(s.ops, o)
	}
	s.unlockChanged(op{kind: opNone})
}

// setOrDelete returns the change that sets key to v, or deletes it when
// set is false.
func setOrDelete(key string, set bool, v any) op {
	if !set {
		return op{kind: opDelete, key: key}
	}
	return op{kind: opSet, key: key, value: v}
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// Expiry returns the expiry the session set for itself (the zero Expiry
// when it follows its Manager's), as stored: before the Manager's bounds.
func (s *Session) Expiry() Expiry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var e Expiry
	if v, ok := codec.Int(s.vals.get(keyLifetime)); ok {
		e.Lifetime = time.Duration(v) * time.Second
	}
	if v, ok := codec.Int(s.vals.get(keyIdle)); ok {
		e.Idle = time.Duration(v) * time.Second
		if v == 0 {
			e.Idle = -1
		}
	}
	if v, ok := codec.Int(s.vals.get(keyDeadline)); ok {
		e.Deadline = time.Unix(v, 0)
	}
	return e
}

// ExpiresAt returns when the session ends if no request comes after this
// one: the earliest of its lifetime, its idle timeout, its deadline and
// the Manager's AbsoluteTimeout, as they apply to it, counted from now for
// a session that this request writes or keeps alive. It makes no backend
// call. A stored session that this request neither changes nor touches
// (no idle timeout) ends its lifetime after its last write, which may have
// been earlier: ExpiresAt then tells the latest it can end.
func (s *Session) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.limits(s.vals).until(s.m.now())
}

// limits is how long a session lives, from its own expiry and its
// Manager's, within what the Manager allows.
type limits struct {
	lifetime time.Duration // after its last write
	idle     time.Duration // after its last request; zero: no idle timeout
	end      time.Time     // a fixed end, when hasEnd
	hasEnd   bool
}

// limits works out the expiry of a session holding data.
func (m *Manager) limits(data values) limits {
	l := limits{lifetime: m.Lifetime, idle: m.IdleTimeout}
	if m.AbsoluteTimeout > 0 {
		l.end, l.hasEnd = m.deadline(data), true
	}
	if v, ok := codec.Int(data.get(keyLifetime)); ok && v > 0 {
		l.lifetime = min(time.Duration(v)*time.Second, m.longest(m.Lifetime))
	}
	if v, ok := codec.Int(data.get(keyIdle)); ok && m.mayIdle() {
		switch {
		case v > 0:
			l.idle = min(time.Duration(v)*time.Second, m.longest(m.IdleTimeout))
		case m.MaxLifetime > 0:
			l.idle = 0 // turned off, which the Manager allows
		}
	}
	if v, ok := codec.Int(data.get(keyDeadline)); ok {
		if _, own := data.lookup(keyLifetime); !own {
			// The deadline says how long the session lives, as
			// Django's datetimes do, within what the Manager allows.
			l.lifetime = m.longest(m.Lifetime)
		}
		if d := time.Unix(v, 0); !l.hasEnd || d.Before(l.end) {
			l.end, l.hasEnd = d, true
		}
	}
	return l
}

// longest returns the longest a session may set for itself where the
// Manager's own setting is own.
func (m *Manager) longest(own time.Duration) time.Duration {
	if m.MaxLifetime > 0 {
		return m.MaxLifetime
	}
	return own
}

// span is how long a session lives without requests, from a write or a
// touch: its idle timeout when it has one, otherwise its lifetime.
func (l limits) span() time.Duration {
	if l.idle > 0 {
		return l.idle
	}
	return l.lifetime
}

// until returns when a session written or touched at now ends.
func (l limits) until(now time.Time) time.Time {
	return l.capped(now.Add(l.span()))
}

// capped returns at, or the session's fixed end if that comes first.
func (l limits) capped(at time.Time) time.Time {
	if l.hasEnd && l.end.Before(at) {
		return l.end
	}
	return at
}

// ttl returns how long the backend keeps a session written or touched at
// now.
func (l limits) ttl(now time.Time) time.Duration {
	return max(l.until(now).Sub(now), time.Second)
}

// ttl returns how long the backend keeps a session written now.
func (m *Manager) ttl(data values) time.Duration {
	return m.limits(data).ttl(m.now())
}

// mayIdle reports whether a session of the Manager can have an idle
// timeout: the Manager's, or one of its own, which needs the Manager's or
// MaxLifetime. Other Managers spare their reads the look for one.
func (m *Manager) mayIdle() bool {
	return m.IdleTimeout > 0 || m.MaxLifetime > 0
}

// idle returns the idle timeout of a session holding data, zero for none.
func (m *Manager) idle(data values) time.Duration {
	if !m.mayIdle() {
		return 0
	}
	return m.limits(data).idle
}

// touchInterval returns how often an idle timeout of idle is extended.
func (m *Manager) touchInterval(idle time.Duration) time.Duration {
	if m.TouchInterval > 0 {
		return m.TouchInterval
	}
	return idle / 10
}
