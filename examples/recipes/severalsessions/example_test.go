package severalsessions_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// shop has two Managers: login sessions, kept in files so that they
// survive a restart, and carts, which live two hours in memory under a
// cookie of their own.
type shop struct{ login, cart *core.Manager }

func newShop(loginStore, cartStore core.Backend) *shop {
	login := core.NewManager(loginStore)
	cart := core.NewManager(cartStore)
	cart.Cookie.Name, cart.KeyPrefix, cart.Lifetime = "cart", "cart:", 2*time.Hour
	return &shop{login: login, cart: cart}
}

// handler installs a middleware for each Manager. The outermost one's
// session is what nethttp.Get returns; nethttp.GetFor names the Manager.
func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart", s.addToCart)
	mux.HandleFunc("POST /login", s.logIn)
	mux.HandleFunc("POST /logout", s.logOut)
	mux.HandleFunc("GET /{$}", s.page)
	return nethttp.Middleware(s.login)(nethttp.Middleware(s.cart)(mux))
}

func (s *shop) addToCart(w http.ResponseWriter, r *http.Request) {
	cart, err := nethttp.GetFor(r, s.cart)
	if err != nil {
		http.Error(w, "cart unavailable", core.HTTPStatus(err))
		return
	}
	items, _ := cart.GetString("items")
	cart.Set("items", strings.TrimPrefix(items+","+r.PostFormValue("item"), ","))
}

func (s *shop) logIn(w http.ResponseWriter, r *http.Request) {
	sess, err := nethttp.Get(r) // the login session
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	sess.Regenerate() // the cart keeps its id: it grants nothing
	sess.Set("user", r.PostFormValue("user"))
}

func (s *shop) logOut(w http.ResponseWriter, r *http.Request) {
	sess, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	sess.Destroy() // the cart stays
}

func (s *shop) page(w http.ResponseWriter, r *http.Request) {
	sess, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	cart, err := nethttp.GetFor(r, s.cart)
	if err != nil {
		http.Error(w, "cart unavailable", core.HTTPStatus(err))
		return
	}
	user, ok := sess.GetString("user")
	if !ok {
		user = "guest"
	}
	items, _ := cart.GetString("items")
	fmt.Fprintf(w, "%s, cart: %s\n", user, items)
}

// A guest fills a cart, logs in and out: each response sets only the
// cookie of the session it changed, and the cart outlives the login.
func Example() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	files, err := filesystem.New(dir, filesystem.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer files.Close()
	mem := memory.New(memory.Options{})
	defer mem.Close()
	handler := newShop(files, mem).handler()

	jar := map[string]*http.Cookie{} // the browser's cookies, by name
	do := func(method, path, form string) {
		req := httptest.NewRequest(method, path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range jar {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		var out []string
		for _, c := range rec.Result().Cookies() {
			if c.MaxAge < 0 {
				out = append(out, "cookie "+c.Name+" dropped")
				delete(jar, c.Name)
				continue
			}
			out = append(out, fmt.Sprintf("cookie %s set (Max-Age %d)", c.Name, c.MaxAge))
			jar[c.Name] = c
		}
		if body := strings.TrimSpace(rec.Body.String()); body != "" {
			out = append(out, body)
		}
		fmt.Printf("%s %s: %s\n", method, path, strings.Join(out, "; "))
	}

	do("POST", "/cart", "item=tea")
	do("POST", "/cart", "item=milk")
	do("POST", "/login", "user=alice")
	do("GET", "/", "")
	do("POST", "/logout", "")
	do("GET", "/", "")
	// Output:
	// POST /cart: cookie cart set (Max-Age 7200)
	// POST /cart: cookie cart set (Max-Age 7200)
	// POST /login: cookie session set (Max-Age 1209600)
	// GET /: alice, cart: tea,milk
	// POST /logout: cookie session dropped
	// GET /: guest, cart: tea,milk
}
