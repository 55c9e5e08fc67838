package backgroundjobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// exporter queues a report for the session that asks for one. The queue
// holds session ids, which open sessions: keep it as you would keep
// passwords.
type exporter struct{ queue chan<- string }

func (e *exporter) export(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	if s.IsNew() {
		// A new session is stored only when this response goes out; a
		// job that ran before would not find it.
		http.Error(w, "log in first", http.StatusUnauthorized)
		return
	}
	e.queue <- s.ID()
	w.WriteHeader(http.StatusAccepted)
}

// buildReport is the job. Outside any request it loads the session by id,
// stores the result and a message for the user's next page, and saves.
func buildReport(ctx context.Context, m *core.Manager, sessionID string) error {
	s, err := m.Load(ctx, sessionID)
	if err != nil {
		return err // the store failed: try the job again later
	}
	if s.IsNew() {
		// Logged out, expired or revoked: nobody to tell. Saving would
		// store a session under an id that no client holds.
		return nil
	}
	s.Set("report", "42 rows")
	s.Flash("message", "Your report is ready.")
	if _, err := m.Save(ctx, s); err != nil && !errors.Is(err, core.ErrInterrupted) {
		return err // ErrInterrupted: logged out while the job ran
	}
	return nil
}

// setTheme and home are two of the user's own pages.
func setTheme(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	s.Set("theme", r.PostFormValue("theme"))
}

func home(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	report, _ := s.GetString("report")
	theme, _ := s.GetString("theme")
	flashes := s.Flashes() // before writing: the first byte out saves the session
	fmt.Fprintf(w, "report %q, theme %q", report, theme)
	for _, f := range flashes {
		fmt.Fprintf(w, ", %s: %s", f.Category, f.Message)
	}
	fmt.Fprintln(w)
}

// The user asks for a report; the job builds it while a request of the
// user's, which loaded the session before the job saved, is still running.
// Both changes are kept. After a logout, the job for the old id finds no
// session and stores nothing.
func Example() {
	ctx := context.Background()
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)
	queue := make(chan string, 10)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /export", (&exporter{queue: queue}).export)
	mux.HandleFunc("POST /theme", setTheme)
	mux.HandleFunc("GET /{$}", home)
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if s, err := nethttp.Get(r); err == nil {
			s.Regenerate()
			s.Set("user", "alice")
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if s, err := nethttp.Get(r); err == nil {
			s.Destroy()
		}
	})
	// hold stops POST /theme after it loaded its session, until resumed:
	// a request that is slower than the job.
	loaded, resume := make(chan struct{}), make(chan struct{})
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/theme" {
				nethttp.Get(r) // loads the session
				loaded <- struct{}{}
				<-resume
			}
			next.ServeHTTP(w, r)
		})
	}
	handler := nethttp.Middleware(m)(hold(mux))

	var cookie *http.Cookie
	do := func(method, path, form string) {
		req := httptest.NewRequest(method, path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if c := rec.Result().Cookies(); len(c) > 0 {
			cookie = c[0]
		}
		line := fmt.Sprintf("%s %s: %d", method, path, rec.Code)
		if body := strings.TrimSpace(rec.Body.String()); body != "" {
			line += " " + body
		}
		fmt.Println(line)
	}

	do("POST", "/login", "")
	do("POST", "/export", "")
	done := make(chan struct{})
	go func() { do("POST", "/theme", "theme=dark"); close(done) }()
	<-loaded
	fmt.Println("job:", buildReport(ctx, m, <-queue))
	close(resume)
	<-done
	do("GET", "/", "")
	do("GET", "/", "")

	do("POST", "/export", "")
	do("POST", "/logout", "")
	fmt.Println("job:", buildReport(ctx, m, <-queue))
	stored := 0
	for range store.Keys(ctx, m.KeyPrefix) {
		stored++
	}
	fmt.Println("sessions stored:", stored)
	// Output:
	// POST /login: 200
	// POST /export: 202
	// job: <nil>
	// POST /theme: 200
	// GET /: 200 report "42 rows", theme "dark", message: Your report is ready.
	// GET /: 200 report "42 rows", theme "dark"
	// POST /export: 202
	// POST /logout: 200
	// job: <nil>
	// sessions stored: 0
}
