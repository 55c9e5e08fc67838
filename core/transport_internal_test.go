package core

import (
	"strings"
	"testing"
)

// parsedCookies is a CookieExchange over a Cookie header, parsed as
// fasthttp parses one.
type parsedCookies struct {
	Exchange
	header string
	pairs  [][2]string
}

func parseCookies(header string) parsedCookies {
	c := parsedCookies{header: header}
	for pair := range strings.SplitSeq(header, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(pair), "="); ok {
			c.pairs = append(c.pairs, [2]string{k, v})
		}
	}
	return c
}

func (c parsedCookies) RequestCookie(name string) (value []byte, n int) {
	for _, p := range c.pairs {
		if p[0] == name {
			if n == 0 {
				value = []byte(p[1])
			}
			n++
		}
	}
	return value, n
}

func (c parsedCookies) RequestHeader(name string) string {
	if name != "Cookie" {
		return ""
	}
	return c.header
}

// A framework that parsed the cookies gets the same answer as a Cookie
// header parsed by the core: one value, none, or none when two differ.
func TestRequestCookieAgreesWithCookieValue(t *testing.T) {
	for _, header := range []string{
		"", "session=abc", "other=1; session=abc", "session=abc; session=abc",
		"session=abc; session=abd", `session="abc"`, `session="abc"; session=abc`,
		`session="`, "session=", "session=; session=abc", "sessionx=1; xsession=2",
		"a=1; session=abc; b=2; session=xyz; c=3",
	} {
		want := cookieValue(header, "session")
		if got := requestCookie(parseCookies(header), "session"); got != want {
			t.Errorf("%q: requestCookie = %q, cookieValue = %q", header, got, want)
		}
	}
}
