package fibersession

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// parse reads a raw request into ctx, as fasthttp's server does for each
// request of a connection, reusing ctx's buffers.
func parse(t *testing.T, ctx *fasthttp.RequestCtx, raw string) {
	t.Helper()
	ctx.Request.Reset()
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
}

func TestExchangeJoinsRepeatedLines(t *testing.T) {
	var ctx fasthttp.RequestCtx
	parse(t, &ctx, "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.1\r\nX-Forwarded-For: 198.51.100.7\r\nX-One: 1\r\n\r\n")
	e := exchange{&ctx}
	for name, want := range map[string]string{
		"X-Forwarded-For": "203.0.113.1,198.51.100.7",
		"x-forwarded-for": "203.0.113.1,198.51.100.7",
		"X-One":           "1",
		"X-None":          "",
	} {
		if got := e.RequestHeader(name); got != want {
			t.Errorf("RequestHeader(%q) = %q, want %q", name, got, want)
		}
	}
	e.AddResponseHeader("Vary", "Accept-Encoding")
	e.AddResponseHeader("Vary", "Cookie")
	if got := e.ResponseHeader("Vary"); got != "Accept-Encoding, Cookie" {
		t.Errorf("ResponseHeader(Vary) = %q", got)
	}
	e.SetResponseHeader("Vary", "Origin")
	if got := e.ResponseHeader("Vary"); got != "Origin" {
		t.Errorf("ResponseHeader(Vary) after Set = %q", got)
	}
	e.AddResponseHeader("Set-Cookie", "a=1")
	e.AddResponseHeader("Set-Cookie", "b=2")
	if n := strings.Count(ctx.Response.Header.String(), "Set-Cookie:"); n != 2 {
		t.Errorf("%d Set-Cookie lines, want 2:\n%s", n, ctx.Response.Header.String())
	}
}

// TestExchangeCopies: what the exchange returns survives the next request
// read into the same buffers.
func TestExchangeCopies(t *testing.T) {
	var ctx fasthttp.RequestCtx
	parse(t, &ctx, "GET / HTTP/1.1\r\nHost: x\r\nCookie: session=first-value\r\nX-Token: first-token\r\nX-Token: again\r\n\r\n")
	e := exchange{&ctx}
	cookie := e.RequestHeader("Cookie")
	token := e.RequestHeader("X-Token")
	single := e.RequestHeader("Host")
	e.AddResponseHeader("X-Out", "kept")
	out := e.ResponseHeader("X-Out")
	if cookie != "session=first-value" || token != "first-token,again" {
		t.Fatalf("RequestHeader: Cookie %q, X-Token %q", cookie, token)
	}
	parse(t, &ctx, "GET / HTTP/1.1\r\nHost: y\r\nCookie: session=other-value\r\nX-Token: other-token\r\nX-Token: later\r\n\r\n")
	ctx.Response.Reset()
	ctx.Response.Header.Set("X-Out", "gone")
	if cookie != "session=first-value" || token != "first-token,again" || single != "x" || out != "kept" {
		t.Errorf("after the next request: cookie %q, token %q, host %q, response header %q", cookie, token, single, out)
	}
}
