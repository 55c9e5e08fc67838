package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// op is a kind of request.
type op int

const (
	opRead   op = iota // GET /api/session
	opIncr             // POST /api/incr/n
	opPut              // PUT /api/session/note
	opLogout           // POST /api/logout
	opLogin            // POST /api/login
	nOps
)

var opNames = [nOps]string{"read", "incr", "put", "logout", "login"}

func (o op) String() string { return opNames[o] }

// session is one logged-in user of a client: a slot whose user changes at
// each logout and login, so that the number of sessions stays constant.
type session struct {
	user   string
	cookie string // "name=value": the login's, or after a logout the anonymous session's
	n      int64  // the last value of the counter n that the demo gave
}

// load is the clients and what they measured.
type load struct {
	base    string
	runID   string // in every user name, so that runs never share users
	cfg     Config
	http    *http.Client
	clients [][]session // each client's sessions, touched by it alone
	users   atomic.Int64
	ops     atomic.Int64           // operations begun, for -requests
	window  atomic.Pointer[Window] // nil while the sessions are created
	total   histogram
	counts  [nOps]atomic.Int64

	mu       sync.Mutex
	errs     map[string]int64
	examples map[string]string // the first message of each kind
}

func newLoad(base string, cfg Config, runID string) *load {
	l := &load{base: base, runID: runID, cfg: cfg,
		errs: make(map[string]int64), examples: make(map[string]string)}
	// One connection per client, kept alive: the demo sees 200 steady
	// connections, not a new one per request.
	l.http = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        cfg.Clients,
			MaxIdleConnsPerHost: cfg.Clients,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		// A redirect would be a wrong answer, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	l.clients = make([][]session, cfg.Clients)
	for i := range cfg.Sessions {
		c := i % cfg.Clients
		l.clients[c] = append(l.clients[c], session{})
	}
	return l
}

// prepare logs every session in and writes both of its values, all
// clients at once. The writes put the sessions at the size they keep
// through the run: sessions that grew as the mix first reached them would
// grow the store, and the demo's RSS, through the first windows. A client
// stops at its first failure, and the run with it, since a run without its
// sessions measures nothing.
func (l *load) prepare(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(l.clients))
	for i, sessions := range l.clients {
		wg.Go(func() {
			for j := range sessions {
				if errs[i] = l.prepareOne(ctx, &sessions[j]); errs[i] != nil || ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	failed := slices.DeleteFunc(errs, func(err error) bool { return err == nil })
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d clients failed, the first with %w", len(failed), len(errs), failed[0])
	}
	return ctx.Err()
}

func (l *load) prepareOne(ctx context.Context, s *session) error {
	if err := l.logIn(ctx, s); err != nil {
		return err
	}
	if err := l.incr(ctx, s); err != nil {
		return err
	}
	return l.put(ctx, s)
}

// run sends the mix from every client until ctx ends or the -requests
// bound is reached.
func (l *load) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sessions := range l.clients {
		wg.Go(func() {
			for ctx.Err() == nil && l.take() {
				l.step(ctx, &sessions[rand.IntN(len(sessions))])
			}
		})
	}
	wg.Wait()
	l.http.CloseIdleConnections()
}

// take reports whether another operation may begin under -requests.
func (l *load) take() bool {
	return l.cfg.Requests == 0 || l.ops.Add(1) <= l.cfg.Requests
}

// step is one operation on s: 90% reads, 8% writes (half increments, half
// sets), 2% a logout and a new login. Requests are not cut short when the
// run ends (ctx), only bounded by the client's timeout: a logout whose
// answer was lost would leave the session count unknown.
func (l *load) step(ctx context.Context, s *session) {
	ctx = context.WithoutCancel(ctx)
	switch p := rand.IntN(100); {
	case s.cookie == "": // a login failed earlier
		l.check(l.logIn(ctx, s))
	case p < 90:
		l.check(l.read(ctx, s))
	case p < 94:
		l.check(l.incr(ctx, s))
	case p < 98:
		l.check(l.put(ctx, s))
	default:
		l.check(l.logOut(ctx, s))
		l.check(l.logIn(ctx, s))
	}
}

// failure is a wrong or missing answer, grouped by kind in the report.
type failure struct{ kind, detail string }

func (f *failure) Error() string { return f.kind + ": " + f.detail }

func fail(o op, kind, format string, args ...any) error {
	return &failure{kind: o.String() + ": " + kind, detail: fmt.Sprintf(format, args...)}
}

// check counts err, if any, by kind.
func (l *load) check(err error) {
	if err == nil {
		return
	}
	var f *failure
	if !errors.As(err, &f) {
		f = &failure{kind: "other", detail: err.Error()}
	}
	if w := l.window.Load(); w != nil {
		w.errs.Add(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errs[f.kind]++; l.errs[f.kind] == 1 {
		l.examples[f.kind] = f.detail
	}
}

// do sends one request with s's cookie and reads the whole answer,
// recording its latency once the sessions exist.
func (l *load) do(ctx context.Context, o op, method, path string, s *session, body string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if s.cookie != "" {
		req.Header.Set("Cookie", s.cookie)
	}
	start := time.Now()
	res, err := l.http.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
	}
	l.record(o, time.Since(start))
	if err != nil {
		return nil, nil, fail(o, "transport", "%v", err)
	}
	return res, b, nil
}

func (l *load) record(o op, d time.Duration) {
	w := l.window.Load()
	if w == nil {
		return
	}
	w.lat.record(d)
	l.total.record(d)
	l.counts[o].Add(1)
}

// expect fails unless res has status want.
func expect(o op, res *http.Response, body []byte, want int) error {
	if res.StatusCode != want {
		return fail(o, "status "+strconv.Itoa(res.StatusCode), "%.200q", body)
	}
	return nil
}

// read checks that the session is s's user's.
func (l *load) read(ctx context.Context, s *session) error {
	res, body, err := l.do(ctx, opRead, http.MethodGet, "/api/session", s, "")
	if err != nil {
		return err
	}
	if err := expect(opRead, res, body, http.StatusOK); err != nil {
		return err
	}
	var v struct {
		User string `json:"user"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.User != s.user {
		return fail(opRead, "wrong user", "%s's session answered %.200q", s.user, body)
	}
	return nil
}

// incr checks that the counter moved by exactly one: this client alone
// uses the session.
func (l *load) incr(ctx context.Context, s *session) error {
	res, body, err := l.do(ctx, opIncr, http.MethodPost, "/api/incr/n", s, "")
	if err != nil {
		return err
	}
	if err := expect(opIncr, res, body, http.StatusOK); err != nil {
		return err
	}
	n, err := strconv.ParseInt(string(body), 10, 64)
	if err != nil || n != s.n+1 {
		return fail(opIncr, "wrong count", "%q after %d", body, s.n)
	}
	s.n = n
	return nil
}

func (l *load) put(ctx context.Context, s *session) error {
	res, body, err := l.do(ctx, opPut, http.MethodPut, "/api/session/note", s, strconv.Quote("seen at "+time.Now().Format(time.RFC3339Nano)))
	if err != nil {
		return err
	}
	return expect(opPut, res, body, http.StatusNoContent)
}

func (l *load) logOut(ctx context.Context, s *session) error {
	res, body, err := l.do(ctx, opLogout, http.MethodPost, "/api/logout", s, "")
	if err != nil {
		return err
	}
	if err := expect(opLogout, res, body, http.StatusNoContent); err != nil {
		return err
	}
	// The demo answers a logout with a new anonymous session that carries
	// its "You are logged out." flash; a browser keeps it, and so does the
	// client, whose next login then moves it to a new id.
	s.user, s.cookie = "", sessionCookie(res)
	return nil
}

// sessionCookie returns the session cookie res sets, as name=value, or ""
// when it sets none or deletes it.
func sessionCookie(res *http.Response) string {
	for _, c := range res.Cookies() {
		if c.Value != "" && c.MaxAge >= 0 {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// logIn logs a new user in on s. It sends s's cookie if it still has one
// (its logout failed): the login then moves that session to a new id
// rather than adding one, and the count stays what the run expects.
func (l *load) logIn(ctx context.Context, s *session) error {
	user := fmt.Sprintf("soak-%s-%d", l.runID, l.users.Add(1))
	res, body, err := l.do(ctx, opLogin, http.MethodPost, "/api/login", s, `{"user":"`+user+`"}`)
	if err != nil {
		return err
	}
	if err := expect(opLogin, res, body, http.StatusNoContent); err != nil {
		return err
	}
	cookie := sessionCookie(res)
	if cookie == "" {
		return fail(opLogin, "no cookie", "Set-Cookie %q", res.Header.Values("Set-Cookie"))
	}
	*s = session{user: user, cookie: cookie}
	return nil
}

// held is the number of sessions the clients hold: what the store should
// count once they have stopped.
func (l *load) held() int {
	n := 0
	for _, sessions := range l.clients {
		for _, s := range sessions {
			if s.cookie != "" {
				n++
			}
		}
	}
	return n
}
