package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/cloakroom/cloakroom/core"
)

// A client sends a request to an app served in process and returns the
// app's response.
type client func(*http.Request) (*http.Response, error)

// handlerClient serves each request with h into a recorder.
func handlerClient(h http.Handler) client {
	return func(req *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result(), nil
	}
}

// wantVisits sends GET /visits n times through c, each request with the
// session cookies and token of the responses before it, and checks that
// the session counts them: 1, 2, ... n.
func wantVisits(t *testing.T, c client, n int) {
	t.Helper()
	var cookies []*http.Cookie
	token := ""
	for want := 1; want <= n; want++ {
		req := httptest.NewRequest(http.MethodGet, "/visits", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		if token != "" {
			req.Header.Set(core.DefaultTokenHeader, token)
		}
		res, err := c(req)
		if err != nil {
			t.Fatalf("visit %d: %v", want, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("visit %d: reading the body: %v", want, err)
		}
		if res.StatusCode != http.StatusOK || string(body) != strconv.Itoa(want) {
			t.Fatalf("visit %d: %s %q, want 200 %q", want, res.Status, body, strconv.Itoa(want))
		}
		if set := res.Cookies(); len(set) > 0 {
			cookies = set
		}
		if v := res.Header.Get(core.DefaultTokenHeader); v != "" {
			token = v
		}
		if cookies == nil && token == "" {
			t.Fatalf("visit %d: the response carries no session cookie nor token", want)
		}
	}
}
