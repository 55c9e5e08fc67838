package fibersession

import (
	"bytes"

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

// AddResponseHeader appends a header line. fasthttp keeps Set-Cookie
// apart from other headers, and Add appends one more cookie rather than
// replacing one of the same name, so the handler's cookies are kept.
func (e exchange) AddResponseHeader(name, value string) {
	e.ctx.Response.Header.Add(name, value)
}

// ResponseHeader joins repeated header lines with ", ", as net/http's
// Header.Values would be joined.
func (e exchange) ResponseHeader(name string) string {
	return join(e.ctx.Response.Header.PeekAll(name), ", ")
}

// SetResponseHeader replaces every line of the header. fasthttp's Set
// alone would replace only the first, and a second line (say a handler's
// "Cache-Control: public" added twice) would survive beside the new value.
func (e exchange) SetResponseHeader(name, value string) {
	e.ctx.Response.Header.Del(name)
	e.ctx.Response.Header.Set(name, value)
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
