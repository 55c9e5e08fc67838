package core

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// TestSetCookieMatchesNetHTTP: setCookie writes what http.Cookie.String
// writes, for the Manager's settings and values a session sends, plain or
// not, and for dates from 1601 to past 9999.
func TestSetCookieMatchesNetHTTP(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"session", "__Host-session", "sid", "bad name", "", "a;b", "é"}
	values := []string{"", "abc", "eyJ1c2VyIjoiYWxpY2UifQ.Z2x_9A.sig-nat_ure", "a b", "a,b", `a"b`, "a;b", `a\b`, "é", "\x7f", "x\ty"}
	paths := []string{"", "/", "/app", "/a;b", "/a b", "/é"}
	domains := []string{"", "example.com", ".example.com"}
	sameSites := []http.SameSite{0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode}
	dates := []time.Time{
		{}, time.Unix(0, 0), time.Date(1600, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 6, 23, 30, 0, 0, time.FixedZone("UTC+14", 14*3600)),
	}
	for range 200 {
		dates = append(dates, time.Unix(r.Int64N(253402300800), r.Int64N(1e9)).In(time.FixedZone("", r.IntN(48*3600)-24*3600)))
	}
	for i := range 20000 {
		o := CookieOptions{
			Name: names[r.IntN(len(names))], Path: paths[r.IntN(len(paths))], Domain: domains[r.IntN(len(domains))],
			Secure: r.IntN(2) == 0, HTTPOnly: r.IntN(2) == 0, SameSite: sameSites[r.IntN(len(sameSites))],
		}
		if i%2 == 0 { // the common case more often: a plain cookie
			o.Name, o.Path, o.Domain = "session", "/", ""
		}
		value, expires, maxAge := values[r.IntN(len(values))], dates[r.IntN(len(dates))], r.IntN(3)-1
		if maxAge > 0 {
			maxAge = r.IntN(1 << 31)
		}
		c := http.Cookie{
			Name: o.Name, Value: value, Path: o.Path, Domain: o.Domain,
			Secure: o.Secure, HttpOnly: o.HTTPOnly, SameSite: o.SameSite, Expires: expires, MaxAge: maxAge,
		}
		if got, want := setCookie(&o, value, expires, maxAge), c.String(); got != want {
			t.Fatalf("setCookie(%+v, %q, %v, %d) = %q, want %q", o, value, expires, maxAge, got, want)
		}
	}
}
