package fibersession

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
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

// AddResponseHeader appends a header line. fasthttp keeps Set-Cookie
// values apart from other headers, and Add appends one more cookie rather
// than replacing the last, so a handler's own cookies are kept. Vary is an
// ordinary header: a second line is sent beside the handler's.
func (e exchange) AddResponseHeader(name, value string) {
	e.c.Response().Header.Add(name, value)
}

// ResponseHeader joins repeated header lines, as net/http's Values would.
func (e exchange) ResponseHeader(name string) string {
	return join(e.c.Response().Header.PeekAll(name), ", ")
}

// SetResponseHeader replaces every line of the header: fasthttp's Set
// alone replaces only the first, and a second line (a handler's
// "Cache-Control: public" added twice) would survive beside the new value.
func (e exchange) SetResponseHeader(name, value string) {
	e.c.Response().Header.Del(name)
	e.c.Response().Header.Set(name, value)
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
