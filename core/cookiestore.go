package core

import (
	"context"
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core/signing"
)

// maxCookieSize is the longest Set-Cookie value browsers are sure to keep,
// the limit Flask warns at.
const maxCookieSize = 4093

// NewCookieManager returns a Manager that keeps the whole session in a
// signed cookie and nothing on the server, in the format of Quart's and
// Flask's SecureCookieSessionInterface: a Go service and a Flask or Quart
// app with the same SECRET_KEY read each other's sessions. The first secret
// signs; all of them verify, for rotation. Sessions last 31 days, Flask's
// PERMANENT_SESSION_LIFETIME default.
//
// The data is signed, not encrypted: the user can read it. A session that
// would need a cookie over 4093 bytes fails to save with ErrCookieTooLarge.
// IdleTimeout and Load/Save by id do not apply to cookie sessions.
func NewCookieManager(secrets ...string) (*Manager, error) {
	sealer, err := signing.NewCookieSerializer(secrets...)
	if err != nil {
		return nil, err
	}
	m := NewManager(nil)
	m.Lifetime = 31 * 24 * time.Hour
	m.sealer = sealer
	return m, nil
}

// openCookie returns the session carried by a cookie value. A value that
// does not verify, has expired or does not decode gives a new session, as
// Flask does.
func (m *Manager) openCookie(ctx context.Context, value string) *Session {
	if value == "" {
		return m.New(ctx)
	}
	payload, _, err := m.sealer.Loads(value, m.Lifetime, m.now())
	if err != nil {
		return m.New(ctx)
	}
	data, err := m.Codec.Decode(payload)
	if err != nil {
		m.report(ctx, fmt.Errorf("%w: signed cookie: %w", ErrCorrupt, err))
		return m.New(ctx)
	}
	return newSession(m, ctx, "", data, true)
}

// commitCookie sets or expires the cookie that holds the session. The
// caller holds s.mu.
func (r *Request) commitCookie(s *Session) error {
	m := r.m
	switch {
	case s.modified && !s.empty():
		payload, err := m.Codec.Encode(s.data)
		if err != nil {
			return fmt.Errorf("cloakroom: encode session: %w", err)
		}
		c := m.cookie(m.sealer.Dumps(payload, m.now()), s)
		if len(c) > maxCookieSize {
			return fmt.Errorf("%w: %d bytes, browsers keep %d", ErrCookieTooLarge, len(c), maxCookieSize)
		}
		r.ex.AddResponseHeader("Set-Cookie", c)
	case r.hadCookie && (s.modified || !s.stored):
		r.ex.AddResponseHeader("Set-Cookie", m.expiredCookie())
	}
	s.modified = false
	return nil
}
