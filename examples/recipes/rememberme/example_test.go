package rememberme_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// rememberFor is how long "remember me" keeps a login on one device.
const rememberFor = 30 * 24 * time.Hour

// newManager returns a Manager whose sessions live a day after their last
// write unless they ask for more, and which lets them ask for up to
// rememberFor.
func newManager(store core.Backend) *core.Manager {
	m := core.NewManager(store)
	m.Lifetime = 24 * time.Hour
	m.MaxLifetime = rememberFor
	return m
}

// login handles the login form. With "remember me" ticked the login
// outlives the browser and lasts rememberFor however rarely the user comes
// back; without it, it ends with the browser, or after 12 idle hours in a
// browser that is never closed.
func login(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	// Check the password here.
	s.Regenerate()
	s.Set("user", r.PostFormValue("user"))
	if r.PostFormValue("remember") == "on" {
		s.SetPermanent(true) // the cookie gets Expires and Max-Age
		s.SetExpiry(core.Expiry{Lifetime: rememberFor, Idle: -1})
	} else {
		s.SetPermanent(false) // the cookie ends with the browser
		s.SetExpiry(core.Expiry{Idle: 12 * time.Hour})
	}
	w.WriteHeader(http.StatusNoContent)
}

// account tells the user who they are and when their session ends if they
// do nothing more.
func account(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	user, _ := s.GetString("user")
	fmt.Fprintf(w, "%s, your session ends in %v\n", user, time.Until(s.ExpiresAt()).Round(time.Hour))
}

// Alice ticks "remember me", Bob does not: Alice's cookie and stored
// session last 30 days, Bob's cookie ends with his browser and his stored
// session after 12 idle hours. Neither gets the Manager's one day.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := newManager(store)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("GET /account", account)
	handler := nethttp.Middleware(m)(mux)

	for _, form := range []string{"user=alice&remember=on", "user=bob"} {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		cookie := rec.Result().Cookies()[0]
		stored, _ := store.ExpiresAt(context.Background(), m.KeyPrefix+cookie.Value)
		fmt.Printf("cookie Max-Age %d, has Expires %t; store keeps it %v\n",
			cookie.MaxAge, !cookie.Expires.IsZero(), time.Until(stored).Round(time.Hour))

		req = httptest.NewRequest("GET", "/account", nil)
		req.AddCookie(cookie)
		rec = httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Body)
	}
	// Output:
	// cookie Max-Age 2592000, has Expires true; store keeps it 720h0m0s
	// alice, your session ends in 720h0m0s
	// cookie Max-Age 0, has Expires false; store keeps it 12h0m0s
	// bob, your session ends in 12h0m0s
}
