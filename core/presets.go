package core

import "time"

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
