package core

import (
	"context"
	"fmt"

	"github.com/cloakroom/cloakroom/core/signing"
)

// cookies keeps the whole session in the cookie, signed; there is no id.
type cookies struct {
	m      *Manager
	sealer *signing.TimedSerializer
}

func (cookies) newID() string { return "" }

// open returns the session carried by a cookie value. A value that does not
// verify, has expired or does not decode gives a new session, as Flask
// does.
func (c cookies) open(ctx context.Context, value string) (*Session, error) {
	m := c.m
	if value == "" {
		return m.New(ctx), nil
	}
	payload, _, err := c.sealer.Loads(value, m.Lifetime, m.now())
	if err != nil {
		return m.New(ctx), nil
	}
	data, err := m.codec().Decode(payload)
	if err != nil {
		m.report(ctx, fmt.Errorf("%w: signed cookie: %w", ErrCorrupt, err))
		return m.New(ctx), nil
	}
	if m.AbsoluteTimeout > 0 && !m.now().Before(m.deadline(data)) {
		return m.New(ctx), nil // re-signing would let it live on for ever
	}
	return newSession(m, ctx, "", data, nil, true), nil
}

// save seals the session into the cookie when it changed. The caller holds
// s.mu.
func (c cookies) save(_ context.Context, s *Session) (tokenAction, string, error) {
	m := c.m
	defer s.saved()
	switch {
	case s.modified && !s.empty():
		payload, err := m.codec().Encode(s.data)
		if err != nil {
			return tokenKeep, "", fmt.Errorf("cloakroom: encode session: %w", err)
		}
		return tokenSet, c.sealer.Dumps(payload, m.now()), nil
	case s.modified || !s.stored:
		return tokenDrop, "", nil
	}
	return tokenKeep, "", nil
}
