package core

import "errors"

var (
	// ErrCorrupt reports stored session data that the codec cannot decode.
	ErrCorrupt = errors.New("cloakroom: corrupt session data")
	// ErrLateChange reports a session changed after its response was
	// committed, when the change can no longer be saved.
	ErrLateChange = errors.New("cloakroom: session changed after the response was committed")
	// ErrNoSession is returned by adapters when a request has no session:
	// the middleware is missing or the request is for a static file.
	ErrNoSession = errors.New("cloakroom: no session for this request")
	// ErrNoKey is returned by Get when the session holds no such key.
	ErrNoKey = errors.New("cloakroom: no such key")
	// ErrCookieTooLarge is returned when a cookie session would need a
	// cookie larger than browsers keep.
	ErrCookieTooLarge = errors.New("cloakroom: session too large for a cookie")
	// ErrNoBackend is returned by Load and Save on a Manager that keeps
	// sessions in cookies.
	ErrNoBackend = errors.New("cloakroom: sessions are kept in cookies; there is no backend")
)
