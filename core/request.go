package core

import (
	"context"
	"errors"
	"sync"

	"github.com/cloakroom/cloakroom/internal/httpcache"
)

// Exchange is what an adapter tells the core about one HTTP request and its
// response. Adapters implement it over their framework's request context.
// The core names every header in its canonical form
// (http.CanonicalHeaderKey), so that an adapter over an http.Header may
// look names up as they are.
type Exchange interface {
	// RemoteAddr returns the connection's peer address, "ip:port" or "ip".
	RemoteAddr() string
	// RequestHeader returns a request header's values joined by commas;
	// the core reads cookies from the Cookie header itself, so that it sees
	// a cookie sent twice.
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

// CookieExchange is an Exchange whose framework parses the request's
// cookies itself, as fasthttp does. The core reads its cookie through
// RequestCookie then, rather than have the Cookie header put back together
// for it to parse again; only for a request that carries the cookie more
// than once does it read the Cookie header, to compare the values.
type CookieExchange interface {
	Exchange
	// RequestCookie returns the value, as sent, of the first cookie called
	// name that the request carries, and how many cookies of that name it
	// carries. The value may point into the framework's buffers: the core
	// copies it before its next call.
	RequestCookie(name string) (value []byte, count int)
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

	peers *peers // the other Managers serving the same request, if any

	mu        sync.Mutex
	s         *Session
	room      Session // where a stored session is made, sparing an allocation per request
	err       error
	token     string // what the request's transport carried
	loaded    bool
	committed bool
}

// peers are the Managers that serve one HTTP request, shared by their
// Requests (see BeginBeside).
type peers struct {
	mu sync.Mutex
	ms []*Manager
}

// join adds m to the Managers serving r's request and returns them.
func (r *Request) join(m *Manager) *peers {
	r.mu.Lock()
	if r.peers == nil {
		r.peers = &peers{ms: []*Manager{r.m}}
	}
	p := r.peers
	r.mu.Unlock()
	p.mu.Lock()
	p.ms = append(p.ms, m)
	p.mu.Unlock()
	return p
}

// check reports two Managers serving the request that would read each
// other's sessions.
func (p *peers) check() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, m := range p.ms {
		for _, o := range p.ms[i+1:] {
			if err := m.overlaps(o); err != nil {
				return err
			}
		}
	}
	return nil
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
	if err := m.checkOnce(ctx); err != nil {
		return nil, err
	}
	if err := r.peers.check(); err != nil {
		return nil, err
	}
	if r.token = m.transport().read(m, r.ex); len(r.token) > maxTokenSize {
		r.token = "" // not worth verifying
	}
	s, err := m.carrier().open(ctx, r.token, &r.room)
	if err != nil {
		return s, err
	}
	s.from = r.ex
	if m.Protection == ProtectionOff {
		return s, nil
	}
	client := m.ClientAddr(r.ex)
	if addr, ok := s.vals.get(keyAddr).(string); ok && s.stored && !m.sameClient(addr, client) {
		s = m.fresh(ctx, s.id, nil)
		s.from, s.reason = r.ex, InvalidToken
	}
	if _, ok := s.vals.lookup(keyAddr); !ok && client.IsValid() {
		s.data()[keyAddr] = client.String()
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
	if action == tokenSet || action == tokenDrop && r.token != "" {
		field, err := r.m.transport().send(r.m, r.ex, s, value, r.token)
		if err != nil {
			return err
		}
		if field != "" {
			return r.keepFromSharedCaches(field)
		}
	}
	if !s.isNew || !s.empty() {
		r.keepPrivate()
	}
	return nil
}

// keepPrivate marks a response made with a user's session private, so
// that a shared cache that ignores Vary does not hand one user's page to
// another, unless the handler said how to cache it.
func (r *Request) keepPrivate() {
	if r.ex.ResponseHeader("Cache-Control") == "" {
		r.ex.SetResponseHeader("Cache-Control", "private")
	}
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
