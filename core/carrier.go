package core

import "context"

// carrier is where a Manager keeps sessions between requests: the Backend
// (store.go) or the cookie itself (cookie.go). The request lifecycle in
// request.go is the same for both.
type carrier interface {
	// open returns the session that a cookie value carries, or a new one
	// when it carries none that is valid. A session it finds may be made
	// in into, the room its Request keeps for one.
	open(ctx context.Context, value string, into *Session) (*Session, error)
	// save stores s if it needs it and says what to do with the cookie,
	// whose new value it returns for tokenSet. The caller holds s.mu.
	save(ctx context.Context, s *Session) (tokenAction, string, error)
	// newID returns an id for a new session.
	newID() string
	// accepts reports, without I/O, whether a token is well formed and
	// signed as open needs it to be.
	accepts(token string) bool
}

// tokenAction is what a commit does with the client's token.
type tokenAction int

const (
	tokenKeep tokenAction = iota // send nothing
	tokenSet                     // send the new value
	tokenDrop                    // make the client drop its token, if it sent one
)
