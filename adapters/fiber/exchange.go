package fibersession

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/valyala/fasthttp"
)

// exchange is the core's view of one Fiber request and its response.
//
// fasthttp hands out byte slices that point into buffers it reuses for the
// next request, and Fiber's strings share them unless the app is
// Immutable. The core may keep the cookie value (it becomes the session's
// id), so every string returned here is a copy of its own.
type exchange struct{ c *fiber.Ctx }

func (e exchange) RemoteAddr() string { return e.c.Context().RemoteAddr().String() }

// RequestHeader joins repeated header lines, as the core expects for
// X-Forwarded-For; c.Get would return only the first.
func (e exchange) RequestHeader(name string) string {
	return join(e.c.Request().Header.PeekAll(name), ",")
}

// RequestCookie implements core.CookieExchange: fasthttp has parsed the
// cookies (or parses them now), and would write them out again for
// RequestHeader("Cookie").
func (e exchange) RequestCookie(name string) (value []byte, n int) {
	//lint:ignore SA1019 Cookies is newer than fasthttp v1.51, the oldest this module works with
	e.c.Request().Header.VisitAllCookie(func(key, v []byte) {
		if string(key) == name {
			if n == 0 {
				value = v
			}
			n++
		}
	})
	return value, n
}

// AddResponseHeader appends a header line. fasthttp keeps Set-Cookie
// values apart from other headers, and Add appends one more cookie rather
// than replacing the last, so a handler's own cookies are kept. Vary is an
// ordinary header: a second line is sent beside the handler's. A first line
// is set rather than added: Add would copy and normalise the name, which
// costs more than looking for the header.
func (e exchange) AddResponseHeader(name, value string) {
	h := &e.c.Response().Header
	if name != "Set-Cookie" && len(responseLines(h, name, nil)) == 0 {
		setLine(h, name, value)
		return
	}
	h.Add(name, value)
}

// ResponseHeader joins repeated header lines, as net/http's Values would.
func (e exchange) ResponseHeader(name string) string {
	var room [4][]byte
	return join(responseLines(&e.c.Response().Header, name, room[:0]), ", ")
}

// SetResponseHeader replaces every line of the header. fasthttp's Set
// replaces only the first, so a second line (say a handler's
// "Cache-Control: public" added twice) is deleted first.
func (e exchange) SetResponseHeader(name, value string) {
	h := &e.c.Response().Header
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
	//lint:ignore SA1019 All is newer than fasthttp v1.51, the oldest this module works with
	h.VisitAll(func(key, value []byte) {
		if string(key) == name {
			lines = append(lines, value)
		}
	})
	return lines
}

// join copies lines into one string, sep between them: one allocation for
// the usual single line.
func join(lines [][]byte, sep string) string {
	switch len(lines) {
	case 0:
		return ""
	case 1:
		return string(lines[0])
	}
	return string(bytes.Join(lines, []byte(sep)))
}
