package fibersession

import (
	"bytes"

	"github.com/gofiber/utils/v2"
	"github.com/valyala/fasthttp"
)

// exchange is the core's view of one Fiber request and its response. It
// holds the fasthttp context rather than the fiber.Ctx interface, so that
// making it a core.Exchange costs no allocation.
//
// fasthttp hands out byte slices that point into buffers it reuses for the
// next request on the connection. The core may keep what it reads (the
// cookie value becomes the session's id), so every string returned here is
// a copy of its own.
type exchange struct{ ctx *fasthttp.RequestCtx }

func (e exchange) RemoteAddr() string { return e.ctx.RemoteAddr().String() }

// RequestHeader joins repeated header lines with ",", as the core expects
// for X-Forwarded-For; c.Get would return only the first.
func (e exchange) RequestHeader(name string) string {
	return join(e.ctx.Request.Header.PeekAll(name), ",")
}

// RequestCookie implements core.CookieExchange: fasthttp has parsed the
// cookies (or parses them now), and would write them out again for
// RequestHeader("Cookie").
func (e exchange) RequestCookie(name string) (value []byte, n int) {
	for key, v := range e.ctx.Request.Header.Cookies() {
		if string(key) == name {
			if n == 0 {
				value = v
			}
			n++
		}
	}
	return value, n
}

// AddResponseHeader appends a header line. fasthttp keeps Set-Cookie
// apart from other headers, and Add appends one more cookie rather than
// replacing one of the same name, so the handler's cookies are kept. A
// first line is set rather than added: Add would copy and normalise the
// name, which costs more than looking for the header.
func (e exchange) AddResponseHeader(name, value string) {
	h := &e.ctx.Response.Header
	if name != "Set-Cookie" && len(responseLines(h, name, nil)) == 0 {
		setLine(h, name, value)
		return
	}
	h.Add(name, value)
}

// ResponseHeader joins repeated header lines with ", ", as net/http's
// Header.Values would be joined.
func (e exchange) ResponseHeader(name string) string {
	var room [4][]byte
	return join(responseLines(&e.ctx.Response.Header, name, room[:0]), ", ")
}

// SetResponseHeader replaces every line of the header. fasthttp's Set
// replaces only the first, so a second line (say a handler's
// "Cache-Control: public" added twice) is deleted first.
func (e exchange) SetResponseHeader(name, value string) {
	h := &e.ctx.Response.Header
	if len(responseLines(h, name, nil)) > 1 {
		h.Del(name)
	}
	setLine(h, name, value)
}

// setLine replaces the first line of h's header name, which must be
// canonical, or appends one. SetCanonical only reads them and copies them
// into the header, so they are lent without a copy, as fasthttp's own Add
// lends its strings: []byte(value) would allocate, since the value may
// escape in fasthttp.
func setLine(h *fasthttp.ResponseHeader, name, value string) {
	h.SetCanonical(utils.UnsafeBytes(name), utils.UnsafeBytes(value))
}

// responseLines appends to lines the values of h's header name, which
// must be canonical, as the core's names are (core.Exchange). A look-up by
// name (Peek, Del, Set) would copy and normalise the name on every call,
// which costs more than going through the few headers of a response.
func responseLines(h *fasthttp.ResponseHeader, name string, lines [][]byte) [][]byte {
	for key, value := range h.All() {
		if string(key) == name {
			lines = append(lines, value)
		}
	}
	return lines
}

// join copies lines into one string, sep between them.
func join(lines [][]byte, sep string) string {
	switch len(lines) {
	case 0:
		return ""
	case 1:
		return string(lines[0])
	}
	return string(bytes.Join(lines, []byte(sep)))
}
