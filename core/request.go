package core

import (
	"context"
	"errors"
	"sync"

	"github.com/cloakroom/cloakroom/internal/httpcache"
)

// Exchange is what an adapter tells the core about one HTTP request and its
// response. Adapters implement it over their framework's request context.
type Exchange interface {
	// Cookie returns the value of the request's cookie called name.
	Cookie(name string) (string, bool)
	// RemoteAddr returns the connection's peer address, "ip:port" or "ip".
	RemoteAddr() string
	// RequestHeader returns a request header's values joined by commas.
	RequestHeader(name string) string
	// AddResponseHeader adds a response header; the core calls it only
	// before the response is committed.
	AddResponseHeader(name, value string)
	// ResponseHeader returns a response header's values, as set so far by
	// the handler, joined by ", ".
	ResponseHeader(name string) string
	// SetResponseHeader replaces a response header; the core calls it only
	// before the response is committed.
	SetResponseHeader(name, value string)
}

// Request is one HTTP request's view of its session: it loads the session
// on first use and commits it once. Adapters create one per request with
// Begin and call Commit before the response's status line goes out.
//
// The whole lifecycle of a request is here; where the session is kept
// between requests is its Manager's carrier: the Backend (store.go) or the
// cookie itself (cookie.go).
type Request struct {
	m  *Manager
	ex Exchange

	mu        sync.Mutex
	s         *Session
	err       error
	token     string // what the request's transport carried
	loaded    bool
	committed bool
}

// Manager returns the Manager that began r, so that an adapter serving
// several Managers can tell their requests apart.
func (r *Request) Manager() *Manager { return r.m }

// Session returns the request's session, loading it on the first call. A
// failed load returns the same error on every call, and such a request
// never saves over the stored session.
func (r *Request) Session(ctx context.Context) (*Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.loaded {
		r.loaded = true
		if !r.committed {
			r.m.transport().vary(r.ex)
		}
		r.s, r.err = r.load(ctx)
		if r.s != nil && r.committed {
			r.s.sealed = true
		}
	}
	return r.s, r.err
}

// load opens the session the request's token carries and applies session
// protection to it.
func (r *Request) load(ctx context.Context) (*Session, error) {
	m := r.m
	m.checkOnce(ctx)
	if r.token = m.transport().read(m, r.ex); len(r.token) > maxTokenSize {
		r.token = "" // not worth verifying
	}
	s, err := m.carrier().open(ctx, r.token)
	if err != nil || m.Protection == ProtectionOff {
		return s, err
	}
	client := m.ClientAddr(r.ex)
	if addr, ok := s.data[keyAddr].(string); ok && s.stored && !m.sameClient(addr, client) {
		s = m.fresh(ctx, s.id)
	}
	if _, ok := s.data[keyAddr]; !ok && client.IsValid() {
		s.data[keyAddr] = client.String()
	}
	return s, nil
}

// Commit saves the session if it needs saving and hands the client its
// token (sets or expires the cookie, by default). Adapters call it before
// the response's headers are written; a change made after it is reported
// to the ErrorHandler. It does nothing for a request that never asked for
// its session or whose load failed. A failed save is reported to the
// ErrorHandler and returned, so that the adapter can answer with an error
// (HTTPStatus) instead of the handler's response; no token is sent then.
func (r *Request) Commit(ctx context.Context) error {
	err := r.commit(ctx)
	if err != nil {
		r.m.report(ctx, err) // unlocked: the ErrorHandler may use the session
	}
	if errors.Is(err, ErrPublicSession) {
		return nil // mended: the response goes out, private
	}
	return err
}

func (r *Request) commit(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.committed {
		return nil
	}
	r.committed = true
	if r.s == nil {
		return nil
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = true
	action, value, err := r.m.carrier().save(ctx, s)
	if err != nil {
		return err
	}
	if action == tokenKeep || (action == tokenDrop && r.token == "") {
		return nil
	}
	field, err := r.m.transport().send(r.m, r.ex, s, value, r.token)
	if err != nil || field == "" {
		return err
	}
	return r.keepFromSharedCaches(field)
}

// keepFromSharedCaches makes a response that carries a session token in
// its header field, or ends one, private, so that no shared cache hands
// the token, or the page made for this session, to another user. A
// handler's "public" is replaced and reported.
func (r *Request) keepFromSharedCaches(field string) error {
	cc, public := httpcache.Private(r.ex.ResponseHeader("Cache-Control"), field)
	r.ex.SetResponseHeader("Cache-Control", cc)
	if public {
		return ErrPublicSession
	}
	return nil
}
