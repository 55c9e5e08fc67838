package core

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

var (
	// ErrBackend marks errors that come from the Backend: the store is
	// down, slow or refusing. They are worth a retry; other errors are not.
	ErrBackend = errors.New("cloakroom: backend failure")
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
	// ErrPublicSession reports a response that the handler marked
	// Cache-Control: public although it hands out or ends a session token
	// (sets or expires the cookie, by default); the Manager made it
	// private instead. The response is sent.
	ErrPublicSession = errors.New("cloakroom: a response that carries a session token was marked public; sent as private")
	// ErrReservedKey reports an attempt to set, delete or update one of the
	// keys the Manager keeps for itself (see Reserved).
	ErrReservedKey = errors.New("cloakroom: reserved session key")
	// ErrTooLarge is returned when a session would be saved larger than
	// the Manager's MaxSize; nothing is written.
	ErrTooLarge = errors.New("cloakroom: session too large")
	// ErrConfig reports a Manager that cannot work as configured (see
	// Manager.Validate).
	ErrConfig = errors.New("cloakroom: invalid Manager configuration")
	// ErrWeakSecret is what Validate refuses a signing secret shorter than
	// 32 bytes with, unless the Manager's AllowWeakSecret is set.
	ErrWeakSecret = errors.New("cloakroom: signing secret too short")
	// ErrTooManySessions is returned when a client address starts more new
	// sessions than the Manager's NewSessionsPerClient allows; nothing is
	// written.
	ErrTooManySessions = errors.New("cloakroom: too many new sessions from one client")
	// ErrNilManager is what every adapter panics with, at construction,
	// when given no Manager: a wiring mistake that must not look like
	// requests without sessions.
	ErrNilManager = errors.New("cloakroom: an adapter was given a nil *core.Manager")
	// ErrNoBackend is returned by Load and Save on a Manager that keeps
	// sessions in cookies.
	ErrNoBackend = errors.New("cloakroom: sessions are kept in cookies; there is no backend")
)

// backendErr wraps an error from the Backend so that it matches both
// ErrBackend and the backend's own error. Its text never shows the
// session's backend key, which holds the live session id: backends name
// the key in their errors, and these errors reach logs.
type backendErr struct {
	op  string
	key string // the backend key involved, hidden in the text
	err error
}

func backendError(op, key string, err error) error { return &backendErr{op: op, key: key, err: err} }

func (e *backendErr) Error() string {
	msg := e.err.Error()
	if e.key != "" {
		msg = strings.ReplaceAll(msg, e.key, LogID(e.key))
	}
	return "cloakroom: " + e.op + ": " + msg
}

func (e *backendErr) Unwrap() []error { return []error{ErrBackend, e.err} }

// LogID returns a short, stable stand-in for a session id or backend key,
// for logs and errors: the first 8 hex digits of its SHA-256 hash. It lets
// an operator follow one session through the logs without the logs
// holding anything that opens it.
func LogID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "#" + hex.EncodeToString(sum[:4])
}

// HTTPStatus is the status to answer a request whose session failed with
// err: 409 Conflict when another request deleted the session meanwhile
// (ErrInterrupted: the client's request was not applied and should not be
// repeated blindly), 413 when the session grew past MaxSize, 503 Service
// Unavailable when the backend failed, so that clients and load balancers
// retry, 429 when the client started too many sessions
// (ErrTooManySessions), and 500 otherwise.
func HTTPStatus(err error) int {
	switch {
	case errors.Is(err, ErrInterrupted):
		return http.StatusConflict
	case errors.Is(err, ErrTooManySessions):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBackend):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
