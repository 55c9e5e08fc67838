package headertokens_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// newAPI returns the API's handler: its sessions travel in
// "Authorization: Bearer <token>", and new tokens go out in the
// X-Session-Token response header.
func newAPI(store core.Backend) http.Handler {
	m := core.NewManager(store)
	m.Transport = core.BearerTransport()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		// Check the credentials here.
		s.Regenerate() // a new token at login
		s.Set("user", r.PostFormValue("user"))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		user, ok := s.GetString("user")
		if !ok {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "you are %s", user)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		s.Destroy() // the response carries an empty X-Session-Token
	})
	return nethttp.Middleware(m)(mux)
}

// tokenTransport is the client's side: an http.RoundTripper that sends the
// token it holds as a bearer token and keeps the one each response hands
// out, dropping it when the header comes back empty.
type tokenTransport struct {
	next  http.RoundTripper
	mu    sync.Mutex
	token string
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	token := t.token
	t.mu.Unlock()
	if token != "" {
		req = req.Clone(req.Context()) // a RoundTripper must not change the request
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if v, ok := resp.Header[core.DefaultTokenHeader]; ok {
		t.mu.Lock()
		t.token = v[0] // "" when the session ended
		t.mu.Unlock()
	}
	return resp, nil
}

// A client logs in, calls the API twice with the token it was given, and
// logs out. The token comes in a header only when it changes, and no
// cookie is ever set.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	srv := httptest.NewServer(newAPI(store))
	defer srv.Close()

	tokens := &tokenTransport{next: http.DefaultTransport}
	client := &http.Client{Transport: tokens}
	call := func(method, path, form string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		token := "new"
		if v, ok := resp.Header[core.DefaultTokenHeader]; !ok {
			token = "none (keep yours)"
		} else if v[0] == "" {
			token = "empty (drop yours)"
		}
		fmt.Printf("%s %s: %d %s; token: %s; cookies: %d\n",
			method, path, resp.StatusCode, strings.TrimSpace(string(body)), token, len(resp.Cookies()))
	}

	call("GET", "/me", "")
	call("POST", "/login", "user=alice")
	call("GET", "/me", "")
	call("GET", "/me", "")
	call("POST", "/logout", "")
	call("GET", "/me", "")
	// Output:
	// GET /me: 401 log in first; token: none (keep yours); cookies: 0
	// POST /login: 200 ; token: new; cookies: 0
	// GET /me: 200 you are alice; token: none (keep yours); cookies: 0
	// GET /me: 200 you are alice; token: none (keep yours); cookies: 0
	// POST /logout: 200 ; token: empty (drop yours); cookies: 0
	// GET /me: 401 log in first; token: none (keep yours); cookies: 0
}
