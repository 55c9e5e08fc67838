package loginlogout_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// login starts a logged-in session under a new id. The data the visitor
// gathered before (here a cart) comes along; the old id is deleted.
func login(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	user := r.PostFormValue("user")
	// Check the password here, then:
	s.Regenerate()
	s.Set("user", user)
	fmt.Fprintf(w, "welcome, %s\n", user)
}

// logout deletes the session from the store and expires its cookie.
func logout(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	s.Destroy()
	fmt.Fprintln(w, "logged out")
}

// home greets a logged-in user, and says why a visitor is not logged in.
func home(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	if user, ok := s.GetString("user"); ok {
		cart, _ := s.GetString("cart")
		fmt.Fprintf(w, "hello %s, your cart holds %s\n", user, cart)
		return
	}
	fmt.Fprintf(w, "not logged in (%s)\n", s.Reason())
}

// addToCart is what an anonymous visitor does before logging in.
func addToCart(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	s.Set("cart", r.PostFormValue("item"))
}

// An attacker who got the visitor's session id before login (a planted
// cookie, a shared computer) holds nothing once the visitor logs in: the
// id changed. After logout the logged-in id opens nothing either.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("POST /logout", logout)
	mux.HandleFunc("POST /cart", addToCart)
	mux.HandleFunc("GET /{$}", home)
	handler := nethttp.Middleware(core.NewManager(store))(mux)

	// do sends a request with cookie (when not nil) and returns the
	// cookie the response set, or cookie when it set none.
	do := func(method, path, form string, cookie *http.Cookie) *http.Cookie {
		req := httptest.NewRequest(method, path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Body)
		if set := rec.Result().Cookies(); len(set) > 0 {
			return set[0]
		}
		return cookie
	}

	visitor := do("POST", "/cart", "item=tea", nil)
	planted := visitor // what the attacker knows
	user := do("POST", "/login", "user=alice", visitor)
	fmt.Println("id changed at login:", user.Value != planted.Value)
	do("GET", "/", "", user)
	do("GET", "/", "", planted) // the attacker

	out := do("POST", "/logout", "", user)
	fmt.Println("cookie expired at logout:", out.Value == "" && out.MaxAge < 0)
	do("GET", "/", "", user) // a copy of the logged-in cookie
	// Output:
	// welcome, alice
	// id changed at login: true
	// hello alice, your cart holds tea
	// not logged in (expired)
	// logged out
	// cookie expired at logout: true
	// not logged in (expired)
}
