package migrating_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// gorillaApp is an application written for gorilla/sessions, moved to
// cloakroom. Each session name it passed to store.Get becomes a Manager
// with that cookie name.
type gorillaApp struct{ main, prefs *core.Manager }

func newGorillaApp(store core.Backend) http.Handler {
	a := &gorillaApp{main: core.NewManager(store), prefs: core.NewManager(store)}
	a.main.Cookie.Name = "session-name"                        // store.Get(r, "session-name")
	a.prefs.Cookie.Name, a.prefs.KeyPrefix = "prefs", "prefs:" // store.Get(r, "prefs")
	a.prefs.Lifetime = 365 * 24 * time.Hour                    // its Options.MaxAge

	mux := http.NewServeMux()
	mux.HandleFunc("POST /save", a.save)
	mux.HandleFunc("GET /show", a.show)
	mux.HandleFunc("POST /logout", a.logout)
	return nethttp.Middleware(a.main)(nethttp.Middleware(a.prefs)(mux))
}

func (a *gorillaApp) save(w http.ResponseWriter, r *http.Request) {
	session, err := nethttp.Get(r) // session, err := store.Get(r, "session-name")
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	prefs, err := nethttp.GetFor(r, a.prefs) // prefs, err := store.Get(r, "prefs")
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	session.Set("foo", "bar")          // session.Values["foo"] = "bar"
	session.Flash("message", "Saved.") // session.AddFlash("Saved.")
	prefs.Set("theme", "dark")         // prefs.Values["theme"] = "dark"
	// No session.Save(r, w) or sessions.Save(r, w): both sessions are
	// saved just before the status line goes out.
}

func (a *gorillaApp) show(w http.ResponseWriter, r *http.Request) {
	session, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	prefs, err := nethttp.GetFor(r, a.prefs)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	foo, _ := session.GetString("foo")   // foo, _ := session.Values["foo"].(string)
	theme, _ := prefs.GetString("theme") // theme, _ := prefs.Values["theme"].(string)
	flashes := session.Flashes()         // session.Flashes(), then session.Save(r, w)
	fmt.Fprintf(w, "foo=%q theme=%q flashes=%v\n", foo, theme, flashes)
}

func (a *gorillaApp) logout(w http.ResponseWriter, r *http.Request) {
	session, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	session.Destroy() // session.Options.MaxAge = -1; session.Save(r, w)
}

// The gorilla application's requests, answered by cloakroom: two cookies,
// a flash shown once, and a logout that ends the login session and keeps
// the preferences.
func Example_gorilla() {
	store := memory.New(memory.Options{})
	defer store.Close()
	handler := newGorillaApp(store)

	jar := map[string]*http.Cookie{}
	for _, step := range []struct{ method, path string }{
		{"POST", "/save"}, {"GET", "/show"}, {"GET", "/show"}, {"POST", "/logout"}, {"GET", "/show"},
	} {
		req := httptest.NewRequest(step.method, step.path, nil)
		for _, c := range jar {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		line := fmt.Sprintf("%s %s: %d", step.method, step.path, rec.Code)
		if body := strings.TrimSpace(rec.Body.String()); body != "" {
			line += " " + body
		}
		for _, c := range rec.Result().Cookies() {
			if c.MaxAge < 0 {
				line += "; cookie " + c.Name + " dropped"
				delete(jar, c.Name)
				continue
			}
			line += "; cookie " + c.Name + " set"
			jar[c.Name] = c
		}
		fmt.Println(line)
	}
	// Output:
	// POST /save: 200; cookie prefs set; cookie session-name set
	// GET /show: 200 foo="bar" theme="dark" flashes=[{message Saved.}]; cookie session-name set
	// GET /show: 200 foo="bar" theme="dark" flashes=[]
	// POST /logout: 200; cookie session-name dropped
	// GET /show: 200 foo="" theme="dark" flashes=[]
}
