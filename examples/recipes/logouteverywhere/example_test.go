package logouteverywhere_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// account holds the routes of a user's account. Its Manager lists and ends
// the user's sessions: any Manager on the same Backend would do, as they
// share the index of each user's sessions.
type account struct{ sessions *core.Manager }

// login makes the user the owner of a new session, which lists it among
// the user's devices.
func (a *account) login(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	userID := r.PostFormValue("user") // Check the password here.
	s.Regenerate()
	s.Set("user", userID) // what your handlers read
	s.SetOwner(userID)    // an id that names the user for good
}

// loggedIn returns the request's session and its owner, or answers the
// request itself (401, or 503 when the store fails) and returns false.
func loggedIn(w http.ResponseWriter, r *http.Request) (*core.Session, string, bool) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return nil, "", false
	}
	if s.Owner() == "" {
		http.Error(w, "log in first", http.StatusUnauthorized)
		return nil, "", false
	}
	return s, s.Owner(), true
}

// device is one line of the user's list of devices.
type device struct {
	Handle    string `json:"handle"`
	UserAgent string `json:"user_agent"`
	Current   bool   `json:"current"`
}

// devices lists the user's sessions, oldest first, marking this one.
func (a *account) devices(w http.ResponseWriter, r *http.Request) {
	s, user, ok := loggedIn(w, r)
	if !ok {
		return
	}
	list, err := a.sessions.Sessions(r.Context(), user)
	if err != nil {
		http.Error(w, "session store unavailable", core.HTTPStatus(err))
		return
	}
	out := []device{}
	for _, d := range list {
		out = append(out, device{Handle: d.Handle, UserAgent: d.UserAgent, Current: d.Handle == s.Handle()})
	}
	json.NewEncoder(w).Encode(out)
}

// logoutDevice ends one session of the user: a stolen phone, say.
func (a *account) logoutDevice(w http.ResponseWriter, r *http.Request) {
	_, user, ok := loggedIn(w, r)
	if !ok {
		return
	}
	switch err := a.sessions.Revoke(r.Context(), user, r.PathValue("handle")); {
	case errors.Is(err, core.ErrUnknownSession):
		http.Error(w, "no such device", http.StatusNotFound)
	case err != nil:
		http.Error(w, "session store unavailable", core.HTTPStatus(err))
	}
}

// changePassword ends every other session of the user, on every Manager
// of the store, and keeps this one.
func (a *account) changePassword(w http.ResponseWriter, r *http.Request) {
	s, user, ok := loggedIn(w, r)
	if !ok {
		return
	}
	// Store the new password here.
	n, err := a.sessions.RevokeAll(r.Context(), user, s.Handle())
	if err != nil {
		http.Error(w, "session store unavailable", core.HTTPStatus(err))
		return
	}
	fmt.Fprintf(w, "password changed; sessions ended elsewhere: %d\n", n)
}

// home greets the user, or says why they are not logged in.
func (a *account) home(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	if user, ok := s.GetString("user"); ok {
		fmt.Fprintf(w, "hello %s\n", user)
		return
	}
	switch s.Reason() {
	case core.Revoked:
		fmt.Fprintln(w, "You were logged out from another device.")
	case core.Expired:
		fmt.Fprintln(w, "Your session expired; please log in again.")
	case core.InvalidToken:
		fmt.Fprintln(w, "Your session could not be read.")
	default:
		fmt.Fprintln(w, "Please log in.")
	}
}

// Alice logs in from a laptop and a phone (cookies) and from a script that
// keeps its token in a header (a second Manager on the same store). From
// the laptop she ends the phone's session, then changes her password,
// which ends the script's.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	web := core.NewManager(store)
	api := core.NewManager(store)
	api.Transport, api.KeyPrefix = core.HeaderTransport(""), "api:"

	a := &account{sessions: web}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("GET /devices", a.devices)
	mux.HandleFunc("DELETE /devices/{handle}", a.logoutDevice)
	mux.HandleFunc("POST /password", a.changePassword)
	mux.HandleFunc("GET /{$}", a.home)
	webHandler := nethttp.Middleware(web)(mux)
	apiHandler := nethttp.Middleware(api)(mux)

	// client is one device: its User-Agent, and the token it keeps in a
	// cookie or, for the script, in a header.
	type client struct {
		agent, token string
		header       bool
	}
	do := func(c *client, method, path, form string) string {
		req := httptest.NewRequest(method, path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", c.agent)
		handler := webHandler
		switch {
		case c.header:
			handler = apiHandler
			req.Header.Set(core.DefaultTokenHeader, c.token)
		case c.token != "":
			req.AddCookie(&http.Cookie{Name: "session", Value: c.token})
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if t, ok := rec.Result().Header[core.DefaultTokenHeader]; ok {
			c.token = t[0]
		}
		for _, cookie := range rec.Result().Cookies() {
			c.token = cookie.Value
		}
		return rec.Body.String()
	}

	laptop := &client{agent: "laptop"}
	phone := &client{agent: "phone"}
	script := &client{agent: "script", header: true}
	for _, c := range []*client{laptop, phone, script} {
		do(c, "POST", "/login", "user=alice")
	}

	var list []device
	json.Unmarshal([]byte(do(laptop, "GET", "/devices", "")), &list)
	for _, d := range list {
		fmt.Println(d.UserAgent, d.Current)
	}
	do(laptop, "DELETE", "/devices/"+list[1].Handle, "")
	fmt.Print("phone: ", do(phone, "GET", "/", ""))

	fmt.Print("laptop: ", do(laptop, "POST", "/password", ""))
	fmt.Print("script: ", do(script, "GET", "/", ""))
	fmt.Print("laptop: ", do(laptop, "GET", "/", ""))
	// Output:
	// laptop true
	// phone false
	// script false
	// phone: You were logged out from another device.
	// laptop: password changed; sessions ended elsewhere: 1
	// script: You were logged out from another device.
	// laptop: hello alice
}
