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
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
	"github.com/cloakroom/cloakroom/internal/budget"
	"github.com/cloakroom/cloakroom/internal/clientip"
	"github.com/cloakroom/cloakroom/internal/keylock"
	"github.com/cloakroom/cloakroom/internal/touchlog"
)

// Manager runs the session lifecycle against a Backend. Create one with
// NewManager (or a preset: NewQuartManager, NewDjangoManager,
// NewCookieManager), adjust its fields before first use, and share it
// between goroutines; its fields must not change once requests are served.
//
// # Concurrent requests
//
// Requests of one browser often overlap. When the Backend implements
// Conditional (every backend in this module tree does), a save is a
// conditional write that succeeds only if the stored session is still the
// one the request loaded. If another request saved in between, the Manager
// reads the session again, applies this request's changes (Set, Delete,
// Clear, Flash, Update and Incr, whose function runs again) on top, and
// retries, for at most 2 seconds by default (BackendTimeout): keys changed
// only by the other request survive and concurrent increments all count.
// Saves of one session in one process take turns instead of conflicting,
// and the save whose turn it is also makes those queued behind it, in one
// write; a Conditional backend that is also a Versioner spares the read
// between turns. IncrNow returns the value an increment stored, for
// numbers that must not repeat. If another request deleted
// the session in between (logout, Regenerate, revocation, expiry), nothing
// is written back, no cookie is sent, and the request gets an error
// matching ErrInterrupted. With a Backend that is not Conditional, the
// last save wins, as in most session libraries; the Manager logs that once.
type Manager struct {
	// Backend stores the session data.
	Backend Backend
	// Codec encodes session data for the backend. Default: TaggedJSON.
	Codec Codec
	// Cookie configures the session cookie.
	Cookie CookieOptions
	// Transport is how the session token travels: a cookie, a header, a
	// bearer token. Default: the cookie that Cookie describes.
	Transport Transport
	// Lifetime is how long a permanent session lives after its last write,
	// and how long the backend keeps every session. Default: 14 days. A
	// session may set its own (Session.SetExpiry), within MaxLifetime.
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
	// MaxLifetime is the longest a session that sets its own expiry
	// (Session.SetExpiry) may live between requests: a longer Lifetime or
	// Idle is cut to it, and a session may turn its idle timeout off.
	// Zero means a session may shorten the Manager's Lifetime and
	// IdleTimeout but not exceed them, nor turn the idle timeout off, nor
	// have one where the Manager has none.
	// Set it for "remember me": 30 days, say, with a Lifetime of a day.
	MaxLifetime time.Duration
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
	// BackendTimeout, when positive, bounds each load and each save (all
	// its attempts included): past it the request gets an error matching
	// ErrBackend, which adapters answer with 503. Zero, the default, bounds
	// the attempts of a save together to 2 seconds, and leaves each call's
	// bound to the backend (Open configures its client so that a frozen
	// server fails within 2 seconds; with a client of your own, your
	// settings apply, see each backend's README); that keeps a context and
	// a timer off requests that do not retry. Negative adds no bound of the
	// Manager's own.
	BackendTimeout time.Duration
	// MaxSize bounds a session's encoded size: a save that would store more
	// fails with an error matching ErrTooLarge and writes nothing, so that
	// a client cannot grow a session without limit. Zero means 256 KiB;
	// negative means no bound.
	MaxSize int
	// StrictDecode fails the load of stored data that cannot be decoded,
	// with an error matching ErrCorrupt. By default such data is reported
	// to the ErrorHandler and treated as absent, as Django does, so that a
	// corrupt session never locks its user out (not even of logging in or
	// out): the request gets a new session and the corrupt data is deleted
	// at its save.
	StrictDecode bool
	// ErrorHandler receives errors that no caller can receive: failed
	// commits, late changes, discarded corrupt data. Default: log them.
	ErrorHandler func(ctx context.Context, err error)
	// Logger is used by the default ErrorHandler. Default: slog.Default().
	Logger *slog.Logger
	// NewSessionsPerClient, when positive, bounds how many new sessions
	// one client address (one /64 network for IPv6) may have stored per
	// minute. A save over the budget writes nothing and fails with an
	// error matching ErrTooManySessions, which adapters answer with 429,
	// so that one client cannot fill the store with sessions and push out
	// those of logged-in users (an in-memory store evicts, Redis may, SQL
	// grows). Sessions that replace another (Regenerate, Destroy) and
	// sessions loaded without a request (Load) are not counted. Set it
	// above what the users behind one address start: a NAT or an office
	// proxy shows many users as one client. Zero means no budget.
	NewSessionsPerClient int
	// MaxSessionsPerUser, when positive, caps the live sessions of one
	// owner (see Session.SetOwner): a save that lists one more ends the
	// oldest of the others, as Revoke does.
	MaxSessionsPerUser int
	// OnEvent, when set, receives each step of a session's life (see
	// EventKind), with the session's handle and owner, never its id. It
	// is called synchronously on the request's goroutine: keep it quick.
	OnEvent func(ctx context.Context, e Event)
	// Observe, when set, is called as each load, save, listing and
	// revocation starts (see Step). The context it returns is the one the
	// step's backend calls and events get, and the function it returns is
	// called when the step ends, with its error: a tracer starts a span
	// there, so that the backend calls nest in it. Keep it quick.
	Observe func(ctx context.Context, step Step) (context.Context, func(error))
	// AllowWeakSecret accepts a signing secret shorter than 32 bytes,
	// which Validate refuses otherwise: set it only for a secret you
	// cannot change, such as the SECRET_KEY of a Flask or Django peer.
	AllowWeakSecret bool

	clock    func() time.Time // for tests; nil means time.Now
	touches  touchlog.Log
	budget   budget.Limiter // new sessions per client, under NewSessionsPerClient
	via      carrier        // where sessions are kept between requests; nil means the Backend
	turns    keylock.Set    // orders this process's saves of one session
	patience time.Duration  // for tests: lockPatience when zero
	checked  sync.Once      // the first request checks the setup
	setup    error          // what that check found
	secret   int            // the length of the shortest secret a preset was given
	owner    string         // the data key of a session's owner; "" means keyOwner
}

// Protection pins a session to the address of the client that created it.
// A request from another address gets a new session and the old one is
// deleted, which limits what a stolen cookie is worth.
type Protection int

const (
	// ProtectionOff does not pin sessions.
	ProtectionOff Protection = iota
	// ProtectAddress requires the exact client address.
	ProtectAddress
	// ProtectNetwork requires the same /24 (IPv4) or /64 (IPv6) network,
	// for clients whose address changes within their provider's range.
	ProtectNetwork
)

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
	m := &Manager{
		Backend:   backend,
		Codec:     codec.TaggedJSON{},
		Cookie:    CookieOptions{Name: "session", Path: "/", HTTPOnly: true, SameSite: http.SameSiteLaxMode},
		Lifetime:  14 * 24 * time.Hour,
		Permanent: true,
		KeyPrefix: "session:",
		IDs:       RandomID{},
		IsStatic:  func(path string) bool { return strings.HasPrefix(path, "/static/") },
	}
	return m
}

// Skip reports whether a request for path goes without a session, so that
// adapters can pass static requests through at no cost.
func (m *Manager) Skip(path string) bool {
	return !m.StaticSessions && m.IsStatic != nil && m.IsStatic(path)
}

// New returns an empty session with a fresh id, not yet stored.
func (m *Manager) New(ctx context.Context) *Session {
	return m.fresh(ctx, "", nil)
}

// Load returns the session stored under id, for code that has an id but no
// HTTP request to take it from: a websocket handler after the upgrade, a
// background job. A malformed, unknown or expired id gives a new empty
// session with a fresh id, never one with the id asked for. Save it with
// Save. A Manager that keeps sessions in cookies returns ErrNoBackend.
func (m *Manager) Load(ctx context.Context, id string) (*Session, error) {
	st, ok := m.carrier().(store)
	if !ok {
		return nil, ErrNoBackend
	}
	if err := m.checkOnce(ctx); err != nil {
		return nil, err
	}
	return st.load(ctx, id, nil)
}

// Save writes s to the backend if it needs writing: it was changed and holds
// data, or it was emptied and must be deleted. Otherwise it costs nothing,
// or one Touch when an idle timeout is due for extension. It reports whether
// it wrote or deleted anything. When another request saved the same session
// since s was loaded, Save applies s's changes on top of that request's;
// when another request deleted it, Save writes nothing and returns an error
// matching ErrInterrupted.
func (m *Manager) Save(ctx context.Context, s *Session) (bool, error) {
	st, ok := m.carrier().(store)
	if !ok {
		return false, ErrNoBackend
	}
	if err := m.checkOnce(ctx); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := st.write(ctx, s)
	return out != wroteNothing, err
}

// starting returns the bookkeeping a new session starts with: whether it
// is permanent (the Manager's Permanent), and when it was created, under
// an absolute timeout (otherwise 0, not recorded).
func (m *Manager) starting() (permanent bool, created int64) {
	if m.AbsoluteTimeout > 0 {
		created = m.now().Unix()
	}
	return m.Permanent, created
}

// fresh returns a new session, made in into when that is not nil, that
// replaces stale, a stored id that the next save deletes.
func (m *Manager) fresh(ctx context.Context, stale string, into *Session) *Session {
	if into == nil {
		into = new(Session)
	}
	data := into.fields[:0]
	permanent, created := m.starting()
	if permanent {
		data = append(data, codec.Field{Key: keyPermanent, Value: true})
	}
	if created != 0 {
		data = append(data, codec.Field{Key: keyCreated, Value: created})
	}
	s := newSession(into, m, ctx, m.carrier().newID(), values{fields: data}, nil, false)
	s.stale = stale
	return s
}

// replaced returns a new session that replaces the stored session id, which
// cannot be used for reason: the next save deletes it.
func (m *Manager) replaced(ctx context.Context, id string, reason Reason, into *Session) *Session {
	s := m.fresh(ctx, id, into)
	s.reason = reason
	return s
}

// key returns the backend key for id.
func (m *Manager) key(id string) string {
	var b [64 + 43]byte // room for a usual prefix and an id or the encoded hash
	key := append(b[:0], m.KeyPrefix...)
	if !m.HashKeys {
		// Not m.KeyPrefix + id: concatenating costs a read about 60
		// instructions more (callgrind).
		return string(append(key, id...))
	}
	sum := sha256.Sum256([]byte(id))
	return string(base64.RawURLEncoding.AppendEncode(key, sum[:]))
}

// deadline returns when a session ends under the absolute timeout.
func (m *Manager) deadline(data values) time.Time {
	created, ok := codec.Int(data.get(keyCreated))
	if !ok {
		return time.Time{} // predates the timeout's configuration: ends now
	}
	return time.Unix(created, 0).Add(m.AbsoluteTimeout)
}

// carrier returns where sessions are kept: the Backend, unless a
// constructor such as NewCookieManager chose otherwise.
func (m *Manager) carrier() carrier {
	if m.via == nil {
		return store{m}
	}
	return m.via
}

// transport returns the Transport, the cookie when none is set.
func (m *Manager) transport() Transport {
	if m.Transport == nil {
		return cookieTransport{}
	}
	return m.Transport
}

// Validate reports a Manager that cannot work as configured: nil, a
// missing Backend, cookie sessions that would never expire, a Transport
// with no way in, a signing secret shorter than 32 bytes (unless
// AllowWeakSecret), a setting that sessions kept in cookies cannot honour
// (Signer, HashKeys), a cookie name whose __Host- or __Secure- prefix the
// cookie's attributes break. Every adapter calls it when it is built and
// panics with its error, so that a wiring mistake shows at start-up rather
// than as requests without sessions; the first request, Load and Save check
// it again and fail with its error, for a Manager changed after that.
func (m *Manager) Validate() error {
	switch {
	case m == nil:
		return ErrNilManager
	case m.via == nil && m.Backend == nil:
		return fmt.Errorf("%w: no Backend", ErrConfig)
	case m.via != nil && m.Lifetime <= 0:
		// A signed cookie cannot be revoked: its expiry is all there is.
		return fmt.Errorf("%w: cookie sessions need a positive Lifetime", ErrConfig)
	case m.via != nil && (m.Signer != nil || m.HashKeys):
		return fmt.Errorf("%w: sessions kept in cookies have no id to sign or hash: Signer and HashKeys do not apply", ErrConfig)
	}
	if n := m.secretLen(); n > 0 && n < minSecret && !m.AllowWeakSecret {
		return fmt.Errorf("%w: %w: %d bytes; use at least %d random bytes, or set AllowWeakSecret for a peer's secret you cannot change", ErrConfig, ErrWeakSecret, n, minSecret)
	}
	if err := m.checkCookiePrefix(); err != nil {
		return err
	}
	return m.transport().check()
}

// checkCookiePrefix enforces what browsers require of a cookie whose name
// has a prefix (RFC 6265bis): __Secure- needs Secure; __Host- needs Secure,
// Path=/ and no Domain, so that no other host of the site, not even a
// sibling subdomain, can set a cookie of that name.
func (m *Manager) checkCookiePrefix() error {
	c := &m.Cookie
	switch {
	case strings.HasPrefix(c.Name, "__Host-") && (!c.Secure || c.Path != "/" || c.Domain != ""):
		return fmt.Errorf("%w: a __Host- cookie needs Secure, Path \"/\" and no Domain, or browsers drop it", ErrConfig)
	case strings.HasPrefix(c.Name, "__Secure-") && !c.Secure:
		return fmt.Errorf("%w: a __Secure- cookie needs Secure, or browsers drop it", ErrConfig)
	}
	return nil
}

// minSecret is the shortest signing secret accepted without
// AllowWeakSecret: 32 bytes of randomness, the strength of the HMAC keys
// derived from it. A short secret is recovered from one cookie offline.
const minSecret = 32

// secretLen returns the length of the shortest signing secret the Manager
// was given, by a preset or in its Signer; 0 when it signs nothing.
func (m *Manager) secretLen() int {
	n := m.secret
	if s, ok := m.Signer.(interface{ SecretLen() int }); ok && (n == 0 || s.SecretLen() < n) {
		n = s.SecretLen()
	}
	return n
}

// checkOnce checks the Manager's setup at the first request (Validate),
// for Managers changed after their adapter was built, and reports a
// backend that is not Conditional. It returns what Validate found, on
// every call.
func (m *Manager) checkOnce(ctx context.Context) error {
	m.checked.Do(func() {
		if m.setup = m.Validate(); m.setup != nil {
			m.report(ctx, m.setup)
			return
		}
		if _, ok := m.Backend.(Conditional); m.via == nil && !ok {
			m.report(ctx, fmt.Errorf("cloakroom: backend %T is not Conditional: concurrent requests on one session may overwrite each other", m.Backend))
		}
	})
	return m.setup
}

// shortest returns the length of the shortest secret; the constructors
// have refused an empty list.
func shortest(secrets []string) int {
	return len(slices.MinFunc(secrets, func(a, b string) int { return len(a) - len(b) }))
}

// bounded returns ctx limited to BackendTimeout, and its cancel function.
func (m *Manager) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.BackendTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, m.BackendTimeout)
}

// defaultMaxSize is far above what a session should hold (Flask's cookies
// stop at 4 KB) and well below what hurts a store.
const defaultMaxSize = 256 << 10

// encode encodes s's data for the backend, within MaxSize.
func (m *Manager) encode(data map[string]any) ([]byte, error) {
	b, err := m.codec().Encode(data)
	if errors.Is(err, codec.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("cloakroom: encode session: %w", err)
	}
	limit := m.MaxSize
	if limit == 0 {
		limit = defaultMaxSize
	}
	if limit > 0 && len(b) > limit {
		return nil, fmt.Errorf("%w: %d bytes encoded, MaxSize is %d", ErrTooLarge, len(b), limit)
	}
	return b, nil
}

// codec returns the Codec, TaggedJSON when none is set.
func (m *Manager) codec() Codec {
	if m.Codec == nil {
		return codec.TaggedJSON{}
	}
	return m.Codec
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

// Begin starts the session handling of one request. It does no I/O.
func (m *Manager) Begin(ex Exchange) *Request {
	return m.BeginBeside(ex, nil)
}

// BeginBeside is Begin for a request that other Managers serve too: first
// is the Request of the first Manager that serves it (nil when there is
// none). The first load of any of them fails with an error matching
// ErrConfig when two of them would read each other's sessions (the same
// Backend and KeyPrefix, or cookie sessions under one name), since a token
// of one would then open a session of the other.
func (m *Manager) BeginBeside(ex Exchange, first *Request) *Request {
	r := new(Request)
	m.BeginAt(r, ex, first)
	return r
}

// BeginAt is BeginBeside into a Request the adapter holds, typically a
// field of its own per-request value, which spares an allocation on every
// request. r must be a zero Request, and must not be copied afterwards.
func (m *Manager) BeginAt(r *Request, ex Exchange, first *Request) {
	r.m, r.ex = m, ex
	if first != nil {
		r.peers = first.join(m)
	}
}

// overlaps reports an error when m and o would read each other's sessions.
func (m *Manager) overlaps(o *Manager) error {
	switch {
	case m == o:
		return nil
	case m.via == nil && o.via == nil && sameBackend(m.Backend, o.Backend) && m.KeyPrefix == o.KeyPrefix:
		return fmt.Errorf("%w: two Managers serving one request share a Backend and the KeyPrefix %q, so each reads the other's sessions: give each its own KeyPrefix", ErrConfig, m.KeyPrefix)
	case m.via != nil && o.via != nil && m.transport().name(m) == o.transport().name(o):
		return fmt.Errorf("%w: two Managers serving one request keep sessions in the cookie %q: give each its own name", ErrConfig, m.transport().name(m))
	}
	return nil
}

// sameBackend reports whether a and b are one Backend; values of a type
// that == cannot compare are never the same.
func sameBackend(a, b Backend) bool {
	t := reflect.TypeOf(a)
	return t != nil && t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// ClientAddr returns the address of the client behind a request. It is the
// connection's peer, unless the peer is one of the TrustedProxies: then it
// is the right-most address of X-Forwarded-For that is not a trusted proxy.
// Entries left of that one could have been written by anybody.
func (m *Manager) ClientAddr(ex Exchange) netip.Addr {
	return clientip.Resolve(ex.RemoteAddr(), ex.RequestHeader("X-Forwarded-For"), m.TrustedProxies)
}

// sameClient reports whether addr, as stored in a session, matches client
// under the Manager's protection mode.
func (m *Manager) sameClient(stored string, client netip.Addr) bool {
	a := clientip.Parse(stored)
	if m.Protection == ProtectNetwork {
		return clientip.SameNetwork(a, client)
	}
	return a == client
}

// cookieID returns the id carried by a cookie value, or "" when its
// signature does not verify.
func (m *Manager) cookieID(value string) string {
	if m.Signer == nil || value == "" {
		return value
	}
	id, err := m.Signer.Unsign(value)
	if err != nil {
		return ""
	}
	return id
}

// signedID returns the cookie value that carries id.
func (m *Manager) signedID(id string) string {
	if m.Signer == nil {
		return id
	}
	return m.Signer.Sign(id)
}

// cookie returns the Set-Cookie value carrying a saved session. The caller
// holds s.mu.
func (m *Manager) cookie(value string, s *Session) string {
	var expires time.Time
	maxAge := 0
	if p, _ := s.vals.get(keyPermanent).(bool); p {
		now, l := m.now(), m.limits(s.vals)
		expires = l.capped(now.Add(l.lifetime))
		maxAge = max(1, int(expires.Sub(now)/time.Second))
	}
	return setCookie(&m.Cookie, value, expires, maxAge)
}

// expiredCookie returns a Set-Cookie value that makes the browser drop the
// session cookie.
func (m *Manager) expiredCookie() string {
	return setCookie(&m.Cookie, "", time.Unix(0, 0), -1)
}
