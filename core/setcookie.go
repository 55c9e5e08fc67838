package core

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// setCookie returns the Set-Cookie value that http.Cookie.String gives a
// cookie named and placed by o, carrying value, with expires (written from
// the year 1601 on, as http writes it) and maxAge (none when 0, Max-Age=0
// when negative).
//
// It writes the same bytes as http.Cookie.String in a quarter of the
// instructions: a session's value and the Manager's own settings need no
// sanitising byte by byte, and the date has one layout. Cookies it does not
// know to be plain (a Domain, whose rules are long, a value that http would
// quote or strip, a year past 9999) go through http.Cookie.String.
func setCookie(o *CookieOptions, value string, expires time.Time, maxAge int) string {
	if o.Domain != "" || !validHeaderName(o.Name) || !plainCookieValue(value) || !plainCookiePath(o.Path) || expires.Year() > 9999 {
		c := http.Cookie{
			Name: o.Name, Value: value, Path: o.Path, Domain: o.Domain,
			Secure: o.Secure, HttpOnly: o.HTTPOnly, SameSite: o.SameSite,
			Expires: expires, MaxAge: maxAge,
		}
		return c.String()
	}
	var b strings.Builder
	b.Grow(len(o.Name) + len(value) + len(o.Path) + len("=; Path=; Expires=Mon, 02 Jan 2006 15:04:05 GMT; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict"))
	b.WriteString(o.Name)
	b.WriteByte('=')
	b.WriteString(value)
	if o.Path != "" {
		b.WriteString("; Path=")
		b.WriteString(o.Path)
	}
	var buf [len(http.TimeFormat)]byte
	if expires.Year() >= 1601 {
		b.WriteString("; Expires=")
		b.Write(appendHTTPDate(buf[:0], expires))
	}
	switch {
	case maxAge > 0:
		b.WriteString("; Max-Age=")
		b.Write(strconv.AppendInt(buf[:0], int64(maxAge), 10))
	case maxAge < 0:
		b.WriteString("; Max-Age=0")
	}
	if o.HTTPOnly {
		b.WriteString("; HttpOnly")
	}
	if o.Secure {
		b.WriteString("; Secure")
	}
	switch o.SameSite {
	case http.SameSiteNoneMode:
		b.WriteString("; SameSite=None")
	case http.SameSiteLaxMode:
		b.WriteString("; SameSite=Lax")
	case http.SameSiteStrictMode:
		b.WriteString("; SameSite=Strict")
	}
	return b.String()
}

// appendHTTPDate appends t in http.TimeFormat, in UTC, for years up to
// 9999.
func appendHTTPDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	b = append(b, t.Weekday().String()[:3]...)
	b = append(b, ", "...)
	b = appendDigits(b, day, 2)
	b = append(b, ' ')
	b = append(b, month.String()[:3]...)
	b = append(b, ' ')
	b = appendDigits(b, year, 4)
	b = append(b, ' ')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	return append(b, " GMT"...)
}

// appendDigits appends n, which is not negative, in width digits.
func appendDigits(b []byte, n, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		p := 1
		for range i {
			p *= 10
		}
		b = append(b, byte('0'+n/p%10))
	}
	return b
}

// plainCookieValue reports whether http.Cookie.String writes v as it is:
// every byte is one it keeps, and none makes it quote the value.
func plainCookieValue(v string) bool {
	for i := range len(v) {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}

// plainCookiePath reports whether http.Cookie.String writes p as it is.
func plainCookiePath(p string) bool {
	for i := range len(p) {
		if c := p[i]; c < ' ' || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}
