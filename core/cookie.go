package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloakroom/cloakroom/core/signing"
)

// cookies keeps the whole session in the cookie, signed; there is no id.
type cookies struct {
	m       *Manager
	secrets []string

	once   sync.Once
	sealer *signing.TimedSerializer
}

func (*cookies) newID() string { return "" }

// seal returns the serializer, made at first use: its salt depends on the
// token's name, which the application may set after the constructor.
func (c *cookies) seal() *signing.TimedSerializer {
	c.once.Do(func() {
		// The secrets were checked by NewCookieManager; the salt is any string.
		c.sealer, _ = signing.NewTimedSerializer(c.salt(), c.secrets...)
	})
	return c.sealer
}

// salt is what keeps the cookies of two Managers with one secret apart: a
// "prefs" cookie in which the user chose user=admin must not pass as the
// login cookie. It is Flask's and Quart's "cookie-session" for their
// cookie name, "session", so that the preset shares cookies with them, and
// is derived from the token's name for any other.
func (c *cookies) salt() string {
	name := c.m.transport().name(c.m)
	if name == "session" {
		return signing.CookieSessionSalt
	}
	return signing.CookieSessionSalt + ":" + name
}

// maxAge bounds a signed cookie's age before its data is read: the longest
// any session of the Manager may go without being signed again. open then
// holds the session to its own limits (outlived), since a cookie is
// signed again at every save and, under an idle timeout, at every request
// due for a touch.
func (c *cookies) maxAge() time.Duration {
	return max(c.m.Lifetime, c.m.MaxLifetime)
}

// outlived reports whether a cookie session signed at signed has passed
// one of its limits at now. Ages count whole seconds, as itsdangerous
// counts them.
func outlived(l limits, signed, now time.Time) bool {
	age := now.Unix() - signed.Unix()
	over := func(d time.Duration) bool { return age > int64(d/time.Second) }
	return over(l.lifetime) || l.idle > 0 && over(l.idle) || l.hasEnd && !now.Before(l.end)
}

func (c *cookies) accepts(token string) bool {
	_, _, err := c.seal().Loads(token, c.maxAge(), c.m.now())
	return len(token) <= maxTokenSize && err == nil
}

// open returns the session carried by a cookie value. A value that does not
// verify, has expired or does not decode gives a new session, as Flask
// does.
func (c *cookies) open(ctx context.Context, value string, into *Session) (*Session, error) {
	ctx, done := c.m.observe(ctx, StepLoad)
	s := c.unseal(ctx, value, into)
	done(nil)
	return s, nil
}

// unseal returns the session a cookie value carries, made in into when
// that is not nil, or a new one.
func (c *cookies) unseal(ctx context.Context, value string, into *Session) *Session {
	m := c.m
	if value == "" {
		return m.New(ctx)
	}
	now := m.now()
	payload, signed, err := c.seal().Loads(value, c.maxAge(), now)
	if err != nil {
		if errors.Is(err, signing.ErrExpired) {
			return c.anew(ctx, Expired)
		}
		return c.anew(ctx, InvalidToken)
	}
	data, err := m.codec().Decode(payload)
	if err != nil {
		m.report(ctx, fmt.Errorf("%w: signed cookie: %w", ErrCorrupt, err))
		return c.anew(ctx, InvalidToken)
	}
	l := m.limits(mapValues(data))
	if outlived(l, signed, now) {
		// Checked here, not by re-signing: that would let it live for ever.
		return c.anew(ctx, Expired)
	}
	s := newSession(into, m, ctx, "", mapValues(data), nil, true)
	// Under an idle timeout the signature's age is the idle time: sign it
	// again now and then, as a store would touch it. Signatures count
	// whole seconds, so a shorter interval would sign it on every request.
	s.renew = l.idle > 0 && now.Sub(signed) >= max(m.touchInterval(l.idle), time.Second)
	return s
}

// anew returns a new session that replaces a cookie unusable for reason.
func (c *cookies) anew(ctx context.Context, reason Reason) *Session {
	s := c.m.New(ctx)
	s.reason = reason
	return s
}

// save seals the session into the cookie when it changed or is due for
// renewal. The caller holds s.mu.
func (c *cookies) save(ctx context.Context, s *Session) (tokenAction, string, error) {
	_, done := c.m.observe(ctx, StepSave)
	action, value, err := c.reseal(s)
	done(err)
	return action, value, err
}

// reseal returns what to send for s: a new cookie value, the cookie's end,
// or nothing. The caller holds s.mu.
func (c *cookies) reseal(s *Session) (tokenAction, string, error) {
	m := c.m
	defer s.saved()
	switch {
	case (s.modified || s.renew) && !s.empty():
		payload, err := m.codec().Encode(s.data())
		if err != nil {
			return tokenKeep, "", fmt.Errorf("cloakroom: encode session: %w", err)
		}
		s.renew = false
		return tokenSet, c.seal().Dumps(payload, m.now()), nil
	case s.modified || !s.stored:
		return tokenDrop, "", nil
	}
	return tokenKeep, "", nil
}
