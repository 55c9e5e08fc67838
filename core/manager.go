package core

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/core/signing"
)

// Manager runs the session lifecycle against a Backend. Create one with
// NewManager, adjust its fields before first use, and share it between
// goroutines; its fields must not change once requests are served.
type Manager struct {
	// Backend stores the session data.
	Backend Backend
	// Codec encodes session data for the backend. Default: TaggedJSON.
	Codec Codec
	// Cookie configures the session cookie.
	Cookie CookieOptions
	// Lifetime is how long a permanent session lives after its last write,
	// and how long the backend keeps every session. Default: 14 days.
	Lifetime time.Duration
	// Permanent makes new sessions permanent: their cookie carries an
	// expiry. Default: true.
	Permanent bool
	// IdleTimeout, when set, expires a session this long after its last
	// request. The backend's expiry is extended with a Touch at most once
	// per TouchInterval rather than the session being rewritten.
	IdleTimeout time.Duration
	// TouchInterval throttles idle-timeout extensions. Default: a tenth of
	// IdleTimeout.
	TouchInterval time.Duration
	// AbsoluteTimeout, when set, ends a session this long after it was
	// created however active it is; Regenerate does not reset it.
	AbsoluteTimeout time.Duration
	// KeyPrefix is put before the id to make the backend key.
	// Default: "session:", as Quart-Session writes.
	KeyPrefix string
	// HashKeys stores sessions under a SHA-256 hash of their id, so that a
	// leaked store does not leak live ids.
	HashKeys bool
	// IDs makes and validates session ids. Default: RandomID.
	IDs IDGenerator
	// Signer, when set, signs the id in the cookie; a cookie whose
	// signature does not verify is treated as absent.
	Signer IDSigner
	// IsStatic marks requests for static files, which never load a session
	// nor get a Set-Cookie unless StaticSessions is set.
	// Default: paths under /static/.
	IsStatic func(path string) bool
	// StaticSessions gives static requests sessions too.
	StaticSessions bool
	// Protection pins a session to its client's address.
	Protection Protection
	// TrustedProxies lists the proxies whose X-Forwarded-For header is
	// believed when finding the client address.
	TrustedProxies []netip.Prefix
	// DiscardCorrupt treats stored data that cannot be decoded as absent
	// (after reporting it) instead of failing the load.
	DiscardCorrupt bool
	// ErrorHandler receives errors that no caller can receive: failed
	// commits, late changes, discarded corrupt data. Default: log them.
	ErrorHandler func(ctx context.Context, err error)
	// Logger is used by the default ErrorHandler. Default: slog.Default().
	Logger *slog.Logger

	clock   func() time.Time // for tests; nil means time.Now
	touches touchLog
	sealer  *signing.TimedSerializer // set by NewCookieManager
}

// IDSigner signs session ids for the cookie. signing.Signer implements it
// in itsdangerous' format, as Quart-Session does.
type IDSigner interface {
	Sign(id string) string
	Unsign(signed string) (string, error)
}

// CookieOptions configure the session cookie.
type CookieOptions struct {
	Name     string // default "session"
	Domain   string
	Path     string // default "/"
	Secure   bool
	HTTPOnly bool          // default true
	SameSite http.SameSite // default Lax
}

// NewManager returns a Manager for backend with the documented defaults.
func NewManager(backend Backend) *Manager {
	return &Manager{
		Backend:   backend,
		Codec:     TaggedJSON{},
		Cookie:    CookieOptions{Name: "session", Path: "/", HTTPOnly: true, SameSite: http.SameSiteLaxMode},
		Lifetime:  14 * 24 * time.Hour,
		Permanent: true,
		KeyPrefix: "session:",
		IDs:       RandomID{},
		IsStatic:  func(path string) bool { return strings.HasPrefix(path, "/static/") },
	}
}

// Skip reports whether a request for path goes without a session, so that
// adapters can pass static requests through at no cost.
func (m *Manager) Skip(path string) bool {
	return !m.StaticSessions && m.IsStatic != nil && m.IsStatic(path)
}

// New returns an empty session with a fresh id, not yet stored.
func (m *Manager) New(ctx context.Context) *Session {
	return m.fresh(ctx, "")
}

// Load returns the session stored under id, for code that has an id but no
// HTTP request to take it from: a websocket handler after the upgrade, a
// background job. A malformed, unknown or expired id gives a new empty
// session with a fresh id, never one with the id asked for. Save it with
// Save.
func (m *Manager) Load(ctx context.Context, id string) (*Session, error) {
	if m.sealer != nil {
		return nil, ErrNoBackend
	}
	if !m.ids().Valid(id) {
		return m.New(ctx), nil
	}
	b, err := m.Backend.Get(ctx, m.key(id))
	if errors.Is(err, ErrNotFound) {
		return m.New(ctx), nil
	}
	if err != nil {
		return nil, backendError("load session", err)
	}
	data, err := m.Codec.Decode(b)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		if !m.DiscardCorrupt {
			return nil, err
		}
		m.report(ctx, err)
		return m.fresh(ctx, id), nil
	}
	if m.AbsoluteTimeout > 0 && !m.now().Before(m.deadline(data)) {
		return m.fresh(ctx, id), nil
	}
	return newSession(m, ctx, id, data, true), nil
}

// fresh returns a new session that replaces stale, a stored id that the
// next save deletes.
func (m *Manager) fresh(ctx context.Context, stale string) *Session {
	data := make(map[string]any, 4)
	if m.Permanent {
		data[keyPermanent] = true
	}
	if m.AbsoluteTimeout > 0 {
		data[keyCreated] = m.now().Unix()
	}
	s := newSession(m, ctx, m.newID(), data, false)
	s.oldID = stale
	return s
}

// newID returns a fresh session id; cookie sessions have none.
func (m *Manager) newID() string {
	if m.sealer != nil {
		return ""
	}
	return m.ids().NewID()
}

// outcome says what a save did, which decides the cookie.
type outcome int

const (
	savedNothing  outcome = iota
	savedData             // the session was written under its id
	savedDeletion         // the session's stored data was deleted
)

// Save writes s to the backend if it needs writing: it was changed and holds
// data, or it was emptied and must be deleted. Otherwise it costs nothing,
// or one Touch when an idle timeout is due for extension. It reports whether
// it wrote or deleted anything.
func (m *Manager) Save(ctx context.Context, s *Session) (bool, error) {
	if m.sealer != nil {
		return false, ErrNoBackend
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := m.save(ctx, s)
	return out != savedNothing, err
}

// save does Save's work; the caller holds s.mu.
func (m *Manager) save(ctx context.Context, s *Session) (outcome, error) {
	out := savedNothing
	switch {
	case s.modified && !s.empty():
		b, err := m.Codec.Encode(s.data)
		if err != nil {
			return out, fmt.Errorf("cloakroom: encode session: %w", err)
		}
		if err := m.Backend.Set(ctx, m.key(s.id), b, m.ttl(s.data)); err != nil {
			return out, backendError("save session", err)
		}
		if m.IdleTimeout > 0 {
			m.touches.record(s.id, m.now(), m.touchInterval())
		}
		s.stored, out = true, savedData
	case s.modified && s.stored:
		if err := m.Backend.Delete(ctx, m.key(s.id)); err != nil {
			return out, backendError("delete session", err)
		}
		s.stored, out = false, savedDeletion
	case s.stored && m.IdleTimeout > 0:
		if err := m.touch(ctx, s); err != nil {
			return out, err
		}
	}
	if s.oldID != "" {
		if err := m.Backend.Delete(ctx, m.key(s.oldID)); err != nil {
			return out, backendError("delete replaced session", err)
		}
		s.oldID = ""
		if out == savedNothing {
			out = savedDeletion
		}
	}
	s.modified = false
	return out, nil
}

// touch extends an idle session's expiry if it was not extended within the
// last TouchInterval. Backends that cannot Touch get the data rewritten.
func (m *Manager) touch(ctx context.Context, s *Session) error {
	now := m.now()
	if !m.touches.due(s.id, now, m.touchInterval()) {
		return nil
	}
	key, ttl := m.key(s.id), m.ttl(s.data)
	var err error
	if t, ok := m.Backend.(Toucher); ok {
		err = t.Touch(ctx, key, ttl)
	} else {
		var b []byte
		if b, err = m.Codec.Encode(s.data); err == nil {
			err = m.Backend.Set(ctx, key, b, ttl)
		}
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return backendError("extend idle session", err)
	}
	m.touches.record(s.id, now, m.touchInterval())
	return nil
}

// key returns the backend key for id.
func (m *Manager) key(id string) string {
	if !m.HashKeys {
		return m.KeyPrefix + id
	}
	sum := sha256.Sum256([]byte(id))
	return m.KeyPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// ttl returns how long the backend keeps a session written now.
func (m *Manager) ttl(data map[string]any) time.Duration {
	ttl := m.Lifetime
	if m.IdleTimeout > 0 {
		ttl = m.IdleTimeout
	}
	if m.AbsoluteTimeout > 0 {
		ttl = min(ttl, m.deadline(data).Sub(m.now()))
	}
	return max(ttl, time.Second)
}

// deadline returns when a session ends under the absolute timeout.
func (m *Manager) deadline(data map[string]any) time.Time {
	created, ok := asInt(data[keyCreated])
	if !ok {
		return time.Time{} // predates the timeout's configuration: ends now
	}
	return time.Unix(created, 0).Add(m.AbsoluteTimeout)
}

func (m *Manager) touchInterval() time.Duration {
	if m.TouchInterval > 0 {
		return m.TouchInterval
	}
	return m.IdleTimeout / 10
}

func (m *Manager) ids() IDGenerator {
	if m.IDs == nil {
		return RandomID{}
	}
	return m.IDs
}

func (m *Manager) now() time.Time {
	if m.clock != nil {
		return m.clock()
	}
	return time.Now()
}

// report hands err to the ErrorHandler.
func (m *Manager) report(ctx context.Context, err error) {
	if m.ErrorHandler != nil {
		m.ErrorHandler(ctx, err)
		return
	}
	logger := m.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.ErrorContext(ctx, "cloakroom: session error", "err", err)
}
