package websockets_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/coder/websocket"
)

// site serves a login, a logout, a page that shows how many messages the
// user sent, and the websocket they send them on.
type site struct{ sessions *core.Manager }

func (a *site) login(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	s.Regenerate() // Check the password first.
	s.Set("user", r.PostFormValue("user"))
}

func (a *site) logout(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	s.Destroy()
}

func (a *site) count(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	n, _ := s.GetInt("messages")
	fmt.Fprintf(w, "%d messages\n", n)
}

// socket authenticates the upgrade request with its session, like any
// other request, and keeps only the session's id: once the connection is
// upgraded no response will carry a cookie, so each message loads the
// session by id, changes it and saves it.
func (a *site) socket(w http.ResponseWriter, r *http.Request) {
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
	id := s.ID()
	conn, err := websocket.Accept(w, r, nil) // refuses other sites' pages (Origin)
	if err != nil {
		return // Accept answered the client
	}
	defer conn.CloseNow()

	ctx := context.Background() // not r.Context(): the request is over for net/http
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			return // the client went away
		}
		s, err := a.sessions.Load(ctx, id)
		if err != nil {
			conn.Close(websocket.StatusTryAgainLater, "session store unavailable")
			return
		}
		if s.IsNew() { // logged out, expired or revoked since the upgrade
			conn.Close(websocket.StatusPolicyViolation, "session ended: "+s.Reason().String())
			return
		}
		n, err := s.Incr("messages", 1)
		if err == nil {
			_, err = a.sessions.Save(ctx, s)
		}
		if errors.Is(err, core.ErrInterrupted) { // logged out between Load and Save
			conn.Close(websocket.StatusPolicyViolation, "session ended")
			return
		} else if err != nil {
			conn.Close(websocket.StatusInternalError, "could not save")
			return
		}
		if err := conn.Write(ctx, websocket.MessageText, fmt.Appendf(nil, "%s #%d: %s", user, n, msg)); err != nil {
			return
		}
	}
}

// A browser-like client with a cookie jar is refused the websocket before
// it logs in; once logged in, it sends two messages, which its session
// counts; a page loaded over plain HTTP sees the count; after a logout in
// another tab, the socket is closed at the next message.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)
	a := &site{sessions: m}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /count", a.count)
	mux.HandleFunc("GET /socket", a.socket)
	srv := httptest.NewServer(nethttp.Middleware(m)(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	ctx := context.Background()
	dial := func() (*websocket.Conn, error) {
		conn, resp, err := websocket.Dial(ctx, srv.URL+"/socket", &websocket.DialOptions{HTTPClient: browser})
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("upgrade refused: %s", resp.Status)
		}
		return conn, err
	}
	post := func(path string, form url.Values) {
		if resp, err := browser.PostForm(srv.URL+path, form); err == nil {
			resp.Body.Close()
		}
	}

	if _, err := dial(); err != nil {
		fmt.Println(err)
	}
	post("/login", url.Values{"user": {"alice"}})
	conn, err := dial()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.CloseNow()
	for _, msg := range []string{"hello", "anyone there?"} {
		conn.Write(ctx, websocket.MessageText, []byte(msg))
		_, reply, _ := conn.Read(ctx)
		fmt.Println(string(reply))
	}

	resp, err := browser.Get(srv.URL + "/count")
	if err != nil {
		fmt.Println(err)
		return
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(page))

	post("/logout", nil) // another tab
	conn.Write(ctx, websocket.MessageText, []byte("still there?"))
	_, _, err = conn.Read(ctx)
	var closed websocket.CloseError
	if errors.As(err, &closed) {
		fmt.Printf("closed: %d %s\n", closed.Code, closed.Reason)
	}
	// Output:
	// upgrade refused: 401 Unauthorized
	// alice #1: hello
	// alice #2: anyone there?
	// 2 messages
	// closed: 1008 session ended: expired
}
