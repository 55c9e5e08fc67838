package adaptertest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/signing"
)

// header returns request headers holding name: value.
func header(name, value string) http.Header {
	h := http.Header{}
	h.Set(name, value)
	return h
}

// with requests path with name: value and fails the test on a transport
// error.
func (e *env) with(path, name, value string) response {
	e.t.Helper()
	r, err := e.fetchWith(path, header(name, value))
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// token returns the token a response hands out in header name, failing the
// test when it hands out none.
func token(t *testing.T, r response, name string) string {
	t.Helper()
	v := r.header.Get(name)
	if r.status/100 != 2 || v == "" {
		t.Fatalf("status %d, %s = %q; want 2xx and a token (body %q)", r.status, name, v, r.body)
	}
	return v
}

// wantNoToken fails unless the response leaves the client's token alone.
func wantNoToken(t *testing.T, r response, name string) {
	t.Helper()
	if v, ok := r.header[http.CanonicalHeaderKey(name)]; ok {
		t.Errorf("%s = %q, want no such header: the client's token is unchanged", name, v)
	}
}

// wantTokenDropped fails unless the response tells the client to forget its
// token: the header, present and empty.
func wantTokenDropped(t *testing.T, r response, name string) {
	t.Helper()
	if v, ok := r.header[http.CanonicalHeaderKey(name)]; !ok || len(v) != 1 || v[0] != "" {
		t.Errorf("%s = %q (present: %t), want one empty value: the session ended", name, v, ok)
	}
}

// testHeader: a header transport hands the token out in its header whenever
// it changes, never a cookie, and varies on its header.
func testHeader(t *testing.T, e *env) {
	const name = core.DefaultTokenHeader
	r := e.get("/set?k=a&v=1", "")
	tok := token(t, r, name)
	wantNoCookie(t, r)
	if !r.variesOn(name) || r.varies() {
		t.Errorf("Vary = %q, want %s and not Cookie", r.header.Values("Vary"), name)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Errorf("a response handing out a token has Cache-Control %q, want it private", cc)
	}
	e.wantCalls("set")

	r = e.with("/set?k=a&v=2", name, tok)
	wantNoToken(t, r, name)
	wantNoCookie(t, r)
	if r = e.with("/get?k=a", name, tok); r.body != "2" {
		t.Errorf("/get with the token = %q, want 2", r.body)
	}
	e.wantCalls("get", "set", "get")
	if r = e.get("/get?k=a", tok); r.body != "" {
		t.Errorf("the token sent as a cookie was accepted: /get = %q", r.body)
	}
	e.wantCalls()

	r = e.with("/regenerate", name, tok)
	fresh := token(t, r, name)
	if fresh == tok {
		t.Error("Regenerate handed out the same token")
	}
	wantNoCookie(t, r)
	if r = e.with("/get?k=a", name, tok); r.body != "" {
		t.Errorf("the old token still reads after Regenerate: %q", r.body)
	}
	wantTokenDropped(t, r, name)
	r = e.with("/destroy", name, fresh)
	wantTokenDropped(t, r, name)
	wantNoCookie(t, r)
	if r = e.with("/get?k=a", name, fresh); r.body != "" {
		t.Errorf("the token still reads after Destroy: %q", r.body)
	}
}

// testHeaderMalformed: a malformed token costs no backend call, as a
// malformed cookie does.
func testHeaderMalformed(t *testing.T, e *env) {
	for _, bad := range []string{"short", "../../../etc/passwd", strings.Repeat("A", 5000), core.RandomID{}.NewID() + "x"} {
		r := e.with("/get?k=a", core.DefaultTokenHeader, bad)
		if r.status != 200 {
			t.Errorf("malformed token %.20q: status %d", bad, r.status)
		}
		e.wantCalls()
	}
	// Two tokens in one request are no token.
	tok := token(t, e.get("/set?k=a&v=1", ""), core.DefaultTokenHeader)
	e.backend.Calls()
	h := http.Header{core.DefaultTokenHeader: {tok, tok}}
	if r, err := e.fetchWith("/get?k=a", h); err != nil || r.body != "" {
		t.Errorf("/get with the token twice = %q, %v; want no session", r.body, err)
	}
	e.wantCalls()
}

// signed sets a Signer and transport t.
func signed(t core.Transport) func(*core.Manager) {
	return func(m *core.Manager) {
		s, err := signing.NewSigner("quart-session", "a test secret of thirty-two bytes")
		if err != nil {
			panic(err)
		}
		m.Signer, m.Transport = s, t
	}
}

// testHeaderSigned: a header token is signed as a cookie would be, and a
// token with a bad signature is not looked up.
func testHeaderSigned(t *testing.T, e *env) {
	tok := token(t, e.get("/set?k=a&v=1", ""), "X-Auth")
	if !strings.Contains(tok, ".") {
		t.Errorf("token %q is not signed", tok)
	}
	e.backend.Calls()
	if r := e.with("/get?k=a", "X-Auth", tok); r.body != "1" {
		t.Errorf("/get with the signed token = %q, want 1", r.body)
	}
	// Change a character well inside the signature: the last one's low
	// bits are padding, and "AA" was the signature's own end once in 1,024.
	i := len(tok) - 5
	other := byte('A')
	if tok[i] == other {
		other = 'B'
	}
	forged := tok[:i] + string(other) + tok[i+1:]
	if r := e.with("/get?k=a", "X-Auth", forged); r.body != "" {
		t.Errorf("/get with a forged signature = %q, want no session", r.body)
	}
	e.wantCalls("get")
}

// testBearer: a bearer token is read from Authorization, whatever the
// scheme's case, and new ones are handed out in DefaultTokenHeader.
func testBearer(t *testing.T, e *env) {
	r := e.get("/set?k=a&v=1", "")
	tok := token(t, r, core.DefaultTokenHeader)
	wantNoCookie(t, r)
	if !r.variesOn("Authorization") {
		t.Errorf("Vary = %q, want Authorization", r.header.Values("Vary"))
	}
	for _, auth := range []string{"Bearer " + tok, "bearer  " + tok} {
		if r := e.with("/get?k=a", "Authorization", auth); r.body != "1" {
			t.Errorf("/get with Authorization %.12q… = %q, want 1", auth, r.body)
		}
	}
	e.backend.Calls()
	for _, auth := range []string{"Basic " + tok, tok, "Bearer"} {
		if r := e.with("/get?k=a", "Authorization", auth); r.body != "" {
			t.Errorf("/get with Authorization %.12q… = %q, want no session", auth, r.body)
		}
	}
	e.wantCalls()
}

// testChain: a chain reads whichever transport carries a token and answers
// through that one; a new client gets the first.
func testChain(t *testing.T, e *env) {
	r := e.get("/set?k=a&v=1", "")
	c := r.cookie(e.m.Cookie.Name)
	if c == nil {
		t.Fatalf("a new session in a chain with the cookie first got no cookie: %q", r.header)
	}
	wantNoToken(t, r, core.DefaultTokenHeader)
	if !r.varies() || !r.variesOn("Authorization") {
		t.Errorf("Vary = %q, want Cookie and Authorization", r.header.Values("Vary"))
	}
	if r := e.with("/get?k=a", "Authorization", "Bearer "+c.Value); r.body != "1" {
		t.Errorf("/get with the cookie's id as a bearer token = %q, want 1", r.body)
	}
	r = e.with("/regenerate", "Authorization", "Bearer "+c.Value)
	tok := token(t, r, core.DefaultTokenHeader)
	wantNoCookie(t, r)
	r = e.get("/regenerate", tok)
	if c := r.cookie(e.m.Cookie.Name); c == nil || c.Value == tok {
		t.Errorf("Regenerate of a session that came in a cookie set cookie %v, want a new one", c)
	}
	wantNoToken(t, r, core.DefaultTokenHeader)
}
