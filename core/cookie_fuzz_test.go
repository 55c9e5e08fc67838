package core_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
	"github.com/cloakroom/cloakroom/core/signing"
)

// fuzzSecret is long enough that the Manager has nothing to warn about, so
// that whatever the fuzz target sees comes from the cookie.
const fuzzSecret = "a secret of at least thirty-two bytes...."

// fuzzExchange is the least an adapter gives the core: the session cookie
// the client sent, and somewhere to put the response's headers.
type fuzzExchange struct {
	cookie string
	out    http.Header
}

func (e *fuzzExchange) RemoteAddr() string { return "192.0.2.1:1234" }
func (e *fuzzExchange) RequestHeader(name string) string {
	if name != "Cookie" || e.cookie == "" {
		return ""
	}
	return "session=" + e.cookie
}
func (e *fuzzExchange) AddResponseHeader(name, value string) { e.out.Add(name, value) }
func (e *fuzzExchange) ResponseHeader(name string) string {
	return strings.Join(e.out.Values(name), ", ")
}
func (e *fuzzExchange) SetResponseHeader(name, value string) { e.out.Set(name, value) }

// setCookie returns the value of the session cookie the response set.
func (e *fuzzExchange) setCookie() (string, bool) {
	for _, c := range (&http.Response{Header: e.out}).Cookies() {
		if c.Name == "session" {
			return c.Value, true
		}
	}
	return "", false
}

// cookieRequest runs one request that carries cookie through m, as an
// adapter would: Begin, Session, then change, then Commit. It fails the
// test when no session comes back: a cookie Manager has no store that could
// be down, so every cookie must give one.
func cookieRequest(t testing.TB, m *core.Manager, cookie string, change func(*core.Session)) (*fuzzExchange, error) {
	t.Helper()
	ctx := context.Background()
	ex := &fuzzExchange{cookie: cookie, out: http.Header{}}
	r := m.Begin(ex)
	s, err := r.Session(ctx)
	if err != nil || s == nil {
		t.Fatalf("cookie %q gave no session: %v", cookie, err)
	}
	if change != nil {
		change(s)
	}
	return ex, r.Commit(ctx)
}

// FuzzCookieSession feeds arbitrary cookie values to a cookie Manager, both
// as a client would send them and sealed with the Manager's own secret: the
// signature stops the fuzzer at the door otherwise, and what lies behind it
// (decompression, decoding) is where a cookie signed with a leaked or
// rotated-out key, or written by an older version, could do harm.
//
// Whatever the value, the Manager returns a session; an invalid cookie gives
// a new, empty one; and the cookie the Manager then sets gives back the
// session's data, with a marker added, as its codec keeps it.
func FuzzCookieSession(f *testing.F) {
	m, err := core.NewCookieManager(fuzzSecret)
	if err != nil {
		f.Fatal(err)
	}
	// Reports of undecodable cookies are expected; the checks look at what
	// the request gets instead.
	m.ErrorHandler = func(context.Context, error) {}
	sealer, err := signing.NewCookieSerializer(fuzzSecret)
	if err != nil {
		f.Fatal(err)
	}

	// The seeds are made at run time rather than kept under testdata: a
	// stored cookie would expire with the Manager's Lifetime and from then
	// on stop short at the timestamp check.
	valid := managerCookie(f, m, "user", "alice")
	// A repetitive session is zlib-compressed: the "."-prefixed form.
	compressed := managerCookie(f, m, "cart", strings.Repeat("apple ", 40))
	if !strings.HasPrefix(compressed, ".") {
		f.Fatalf("the seed %q is not compressed", compressed)
	}
	other, err := core.NewCookieManager("another secret, also thirty-two bytes or more")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"",
		valid,
		compressed,
		valid[:len(valid)/2],                // truncated
		valid[:len(valid)-1],                // signature one byte short
		compressed[:len(compressed)/2],      // truncated zlib
		strings.Replace(valid, "e", "f", 1), // tampered
		managerCookie(f, other, "user", "mallory"), // signed with another key
		"garbage",
		"..",
		"\x00\xff\";,= ",
		// Payloads that the sealed pass hands to the codec.
		`{"user":"alice","n":1}`,
		`{" t":[1,2]}`,
		`{"a":{" d":"2020-01-02T03:04:05.678901+00:00"},"b":{" b":"AQ=="}}`,
		`{"_permanent":"yes","_flashes":7}`,
		`[1]`,
	} {
		f.Add(seed)
	}

	// The checks below would pass vacuously if no cookie ever verified:
	// make sure that the Manager's own and a sealed payload both do.
	for _, c := range []string{valid, compressed, sealer.Dumps([]byte(`{"user":"alice"}`), time.Now())} {
		if _, err := cookieRequest(f, m, c, func(s *core.Session) {
			if s.IsNew() {
				f.Fatalf("the valid cookie %q was refused", c)
			}
		}); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, in string) {
		checkCookie(t, m, in)
		checkCookie(t, m, sealer.Dumps([]byte(in), time.Now()))
	})
}

// checkCookie sends cookie to m, adds a marker to the session it gives,
// and checks that the cookie m sets for it comes back as the data the codec
// keeps.
func checkCookie(t *testing.T, m *core.Manager, cookie string) {
	t.Helper()
	var want map[string]any
	ex, err := cookieRequest(t, m, cookie, func(s *core.Session) {
		if got := maps.Collect(s.All()); s.IsNew() && len(got) > 0 {
			t.Fatalf("cookie %q gave a new session that holds %v", cookie, got)
		}
		// Bytes, not a string: tagged JSON keeps every byte only in its
		// " b" form, and what is checked is the session, not UTF-8.
		s.Set("marker", []byte(cookie))
		want = maps.Collect(s.All())
	})
	if errors.Is(err, core.ErrCookieTooLarge) {
		return // the marker doubles the size: a long input does not fit
	}
	if err != nil {
		t.Fatalf("cookie %q: saving %v: %v", cookie, want, err)
	}
	value, ok := ex.setCookie()
	if !ok {
		t.Fatalf("cookie %q: saving %v set no cookie", cookie, want)
	}
	// What the codec keeps is the reference: it writes times to the second,
	// so a sealed payload with a finer time cannot come back exactly.
	kept, err := codec.TaggedJSON{}.Encode(want)
	if err != nil {
		t.Fatalf("the Manager saved %v, which the codec cannot encode: %v", want, err)
	}
	if want, err = (codec.TaggedJSON{}).Decode(kept); err != nil {
		t.Fatalf("%q does not decode: %v", kept, err)
	}
	if _, err := cookieRequest(t, m, value, func(s *core.Session) {
		if s.IsNew() {
			t.Fatalf("the Manager's own cookie %q was refused", value)
		}
		if got := maps.Collect(s.All()); !reflect.DeepEqual(got, want) {
			t.Fatalf("the Manager's own cookie %q gave back\n%#v\nwant\n%#v", value, got, want)
		}
	}); err != nil {
		t.Fatalf("committing the session of the Manager's own cookie: %v", err)
	}
}

// managerCookie returns the cookie m sets for a session that holds value
// under key.
func managerCookie(f *testing.F, m *core.Manager, key string, value any) string {
	f.Helper()
	ex, err := cookieRequest(f, m, "", func(s *core.Session) { s.Set(key, value) })
	if err != nil {
		f.Fatal(err)
	}
	v, ok := ex.setCookie()
	if !ok || v == "" {
		f.Fatalf("no cookie for %s=%v in %v", key, value, ex.out)
	}
	return v
}
