package core

import (
	"slices"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
	"github.com/cloakroom/cloakroom/core/signing"
)

// NewQuartManager returns a Manager that reads and writes sessions exactly
// as Quart-Session does on Redis or Memcached, so that a Quart app and a Go
// service on the same store share their users' sessions: cookie "session"
// holding a uuid4 id, backend key "session:" + id, tagged JSON with
// "_permanent" (and "_addr" under Protection), kept for 31 days, Quart's
// PERMANENT_SESSION_LIFETIME default.
//
// For Quart-Session's SESSION_USE_SIGNER, set Signer to a
// signing.Signer with salt signing.QuartSessionSalt and the app's
// SECRET_KEY.
func NewQuartManager(backend Backend) *Manager {
	m := NewManager(backend)
	m.IDs = UUID4ID{}
	m.Lifetime = 31 * 24 * time.Hour
	return m
}

// NewDjangoManager returns a Manager that shares sessions with a Django
// project using database sessions: pass a backend over Django's
// django_session table (backends/sql with its DjangoTable) and the
// project's SECRET_KEY (then any SECRET_KEY_FALLBACKS). It uses Django's
// cookie "sessionid", 32-character [a-z0-9] keys stored without a prefix,
// and its two-week SESSION_COOKIE_AGE. A SECRET_KEY shorter than 32
// bytes is refused (see Validate) unless AllowWeakSecret is set.
//
// A session's own expiry is Django's "_session_expiry" (see codec.Django):
// what request.session.set_expiry gave a session holds in Go, and
// Session.SetExpiry and SetPermanent(false) hold in Django. A Django
// expiry longer than the Manager's Lifetime is cut to it unless
// MaxLifetime allows more.
func NewDjangoManager(backend Backend, secrets ...string) (*Manager, error) {
	c, err := codec.NewDjango(signing.DjangoSessionStoreSalt, secrets...)
	if err != nil {
		return nil, err
	}
	m := NewManager(backend)
	m.Codec = c
	m.Cookie.Name = "sessionid"
	m.IDs = DjangoID{}
	m.KeyPrefix = ""
	m.Lifetime = 14 * 24 * time.Hour
	m.owner = "_auth_user_id" // django.contrib.auth's logins are owned too
	m.secret = shortest(secrets)
	return m, nil
}

// NewCookieManager returns a Manager that keeps the whole session in a
// signed cookie and nothing on the server, in the format of Quart's and
// Flask's SecureCookieSessionInterface: a Go service and a Flask or Quart
// app with the same SECRET_KEY read each other's sessions. The first secret
// signs; all of them verify, for rotation. Sessions last 31 days, Flask's
// PERMANENT_SESSION_LIFETIME default.
//
// Logging out cannot revoke a cookie session: there is no server copy to
// delete, so a copy of the cookie taken before logout (by malware, from a
// shared computer, from a log) stays valid until it expires. Keep Lifetime
// short (and set AbsoluteTimeout, which is enforced on load), rotate the
// secret to end every session at once, and use a server-side store
// (NewManager with a Backend) for anything where logout must really end
// the session.
//
// The cookie's signature is salted with Flask's "cookie-session" while the
// token keeps Flask's name, "session", and with a salt derived from the name
// otherwise, so that two cookie Managers sharing a secret cannot read each
// other's cookies. Secrets shorter than 32 bytes are refused (see
// Validate) unless AllowWeakSecret is set, for a Flask peer's SECRET_KEY.
//
// IdleTimeout is enforced by the signature's age: a request that finds the
// cookie older than TouchInterval signs it again, as a store would be
// touched, and a cookie idle for longer is a new session.
//
// The data is signed, not encrypted: the user can read it. A session that
// would need a cookie over 4093 bytes fails to save with ErrCookieTooLarge.
// Load and Save by id do not apply to cookie sessions.
func NewCookieManager(secrets ...string) (*Manager, error) {
	if _, err := signing.NewCookieSerializer(secrets...); err != nil {
		return nil, err
	}
	m := NewManager(nil)
	m.Lifetime = 31 * 24 * time.Hour
	m.via = &cookies{m: m, secrets: slices.Clone(secrets)}
	m.secret = shortest(secrets)
	return m, nil
}
