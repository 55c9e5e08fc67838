package core

import (
	"fmt"
	"net/http"
	"strings"
)

// Transport is how the session token travels between client and server:
// in a cookie (the default), in a header for API and mobile clients, or
// whichever of several a request uses. The token is what a cookie would
// hold: the session id, signed when the Manager has a Signer, or the whole
// sealed session for a NewCookieManager. Tokens are checked before any I/O
// whatever carries them: one longer than 4093 bytes, of the wrong format or
// with a bad signature is treated as absent.
//
// Make one with CookieTransport, HeaderTransport, BearerTransport or
// ChainTransport and set it as Manager.Transport. Its methods are
// unexported: those four are the only Transports, so that every way in
// keeps the checks above.
type Transport interface {
	// read returns the token the request carries, "" when none or when it
	// carries several different ones: a client cannot hold two sessions of
	// one Manager, so one of them was planted.
	read(m *Manager, ex Exchange) string
	// name names the token: the cookie's or the header's name.
	name(m *Manager) string
	// send gives the client the token value of a saved session, or tells
	// it to forget old, the token it sent, when value is "". It returns
	// the response header it wrote, "" when the client needs nothing.
	send(m *Manager, ex Exchange, s *Session, value, old string) (field string, err error)
	// vary adds the request headers that read looks at to Vary.
	vary(ex Exchange)
	// check reports a transport that cannot work.
	check() error
}

// DefaultTokenHeader is the header HeaderTransport("") and BearerTransport
// use.
const DefaultTokenHeader = "X-Session-Token"

// CookieTransport carries the token in the cookie that Manager.Cookie
// describes. A nil Manager.Transport means this one.
func CookieTransport() Transport { return cookieTransport{} }

// HeaderTransport carries the token in the request header name
// (DefaultTokenHeader when empty) and hands new tokens to the client in the
// response header of the same name, whenever the token changes: a new
// session, Regenerate, or any save of a NewCookieManager's session. When
// the session ends (Destroy, Clear, an unknown or expired token) the
// response carries the header with an empty value, which tells the client
// to drop its token. It never sets a cookie.
func HeaderTransport(name string) Transport {
	if name == "" {
		name = DefaultTokenHeader
	}
	name = http.CanonicalHeaderKey(name)
	return headerTransport{in: name, out: name}
}

// BearerTransport reads the token from "Authorization: Bearer <token>"
// (RFC 6750) and hands new tokens to the client, as HeaderTransport("")
// does, in the response header DefaultTokenHeader.
func BearerTransport() Transport {
	return headerTransport{in: "Authorization", scheme: "Bearer", out: DefaultTokenHeader}
}

// ChainTransport reads the token from the first of ts that carries one, as
// Fiber's extractor chains do, and answers through that same transport,
// or through ts[0] when the request carried no token. Put first the
// transport that new clients should get: ChainTransport(CookieTransport(),
// BearerTransport()) gives browsers a cookie and lets API clients that
// hold a token send it as a bearer token.
func ChainTransport(ts ...Transport) Transport { return chainTransport(ts) }

type cookieTransport struct{}

func (cookieTransport) read(m *Manager, ex Exchange) string {
	if ce, ok := ex.(CookieExchange); ok {
		return requestCookie(ce, m.Cookie.Name)
	}
	return cookieValue(ex.RequestHeader("Cookie"), m.Cookie.Name)
}

func (cookieTransport) name(m *Manager) string { return m.Cookie.Name }

// cookieValue returns the value of the cookie called name in a Cookie
// header, "" when there is none or several with different values. Browsers
// send two when another site of the same domain (a sibling subdomain, a
// page over plain HTTP) planted one beside ours: neither can be trusted to
// be the one we set, so neither is adopted, as with two header tokens.
// A double-quoted value is unquoted, as net/http does.
func cookieValue(header, name string) string {
	var value string
	found := false
	for header != "" {
		var pair string
		pair, header, _ = strings.Cut(header, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || k != name {
			continue
		}
		v = unquote(v)
		if found && v != value {
			return ""
		}
		value, found = v, true
	}
	return value
}

// requestCookie is cookieValue for an Exchange that parsed the cookies.
func requestCookie(ex CookieExchange, name string) string {
	switch value, n := ex.RequestCookie(name); n {
	case 0:
		return ""
	case 1:
		return string(unquote(value))
	}
	return cookieValue(ex.RequestHeader("Cookie"), name) // several: do they agree?
}

// unquote strips the double quotes around a cookie value, as net/http does.
func unquote[T string | []byte](v T) T {
	if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

func (cookieTransport) send(m *Manager, ex Exchange, s *Session, value, _ string) (string, error) {
	if value == "" {
		ex.AddResponseHeader("Set-Cookie", m.expiredCookie())
		return "Set-Cookie", nil
	}
	c := m.cookie(value, s)
	if len(c) > maxTokenSize {
		return "", fmt.Errorf("%w: %d bytes, browsers keep %d", ErrCookieTooLarge, len(c), maxTokenSize)
	}
	ex.AddResponseHeader("Set-Cookie", c)
	return "Set-Cookie", nil
}

func (cookieTransport) vary(ex Exchange) { addVary(ex, "Cookie") }

func (cookieTransport) check() error { return nil }

// headerTransport reads the token from header in, after scheme and a space
// when scheme is set, and sends it in header out.
type headerTransport struct{ in, scheme, out string }

func (h headerTransport) read(_ *Manager, ex Exchange) string {
	v := ex.RequestHeader(h.in)
	if strings.Contains(v, ",") {
		return "" // several lines, joined: no token has a comma
	}
	if h.scheme == "" {
		return v
	}
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, h.scheme) {
		return ""
	}
	return strings.TrimLeft(token, " ")
}

func (h headerTransport) send(_ *Manager, ex Exchange, _ *Session, value, old string) (string, error) {
	if value == old {
		return "", nil // the client has it
	}
	if len(value) > maxTokenSize {
		return "", fmt.Errorf("%w: a %d-byte token, the most a client sends back is %d", ErrCookieTooLarge, len(value), maxTokenSize)
	}
	ex.SetResponseHeader(h.out, value)
	return h.out, nil
}

func (h headerTransport) name(*Manager) string { return h.in }

func (h headerTransport) vary(ex Exchange) { addVary(ex, h.in) }

func (h headerTransport) check() error {
	for _, name := range [...]string{h.in, h.out} {
		if !validHeaderName(name) {
			return fmt.Errorf("%w: %q is not a header name", ErrConfig, name)
		}
	}
	return nil
}

type chainTransport []Transport

func (c chainTransport) read(m *Manager, ex Exchange) string {
	_, token := c.pick(m, ex)
	return token
}

func (c chainTransport) name(m *Manager) string { return c[0].name(m) }

func (c chainTransport) send(m *Manager, ex Exchange, s *Session, value, old string) (string, error) {
	t, _ := c.pick(m, ex)
	return t.send(m, ex, s, value, old)
}

// pick returns the first transport whose token the Manager accepts, and
// that token; else the first transport that carries one, so that it is
// told to drop it; else the first transport. A junk cookie, left over or
// planted, must not hide a valid bearer token behind it.
func (c chainTransport) pick(m *Manager, ex Exchange) (Transport, string) {
	first, token := c[0], ""
	for _, t := range c {
		v := t.read(m, ex)
		if v == "" {
			continue
		}
		if m.carrier().accepts(v) {
			return t, v
		}
		if token == "" {
			first, token = t, v
		}
	}
	return first, token
}

func (c chainTransport) vary(ex Exchange) {
	for _, t := range c {
		t.vary(ex)
	}
}

func (c chainTransport) check() error {
	if len(c) == 0 {
		return fmt.Errorf("%w: a ChainTransport of no transport", ErrConfig)
	}
	for _, t := range c {
		if t == nil {
			return fmt.Errorf("%w: a nil Transport in a ChainTransport", ErrConfig)
		}
		if err := t.check(); err != nil {
			return err
		}
	}
	return nil
}

// addVary adds name to the response's Vary unless it is there already, as
// it is when several Managers serve one request.
func addVary(ex Exchange, name string) {
	vary := ex.ResponseHeader("Vary")
	if vary == "" { // nearly always: a Set spares Add's second look
		ex.SetResponseHeader("Vary", name)
		return
	}
	for v := range strings.SplitSeq(vary, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return
		}
	}
	ex.AddResponseHeader("Vary", name)
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r >= 0x80 || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) || r == 0x7f {
			return false
		}
	}
	return true
}

// maxTokenSize is the longest token a client is sure to send back: the
// longest Set-Cookie value browsers keep, the limit Flask warns at. Longer
// tokens are treated as absent without being looked at.
const maxTokenSize = 4093
