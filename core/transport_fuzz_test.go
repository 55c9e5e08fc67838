package core_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// headerExchange is an exchange whose request carries a session cookie and
// arbitrary request headers, as a client may send them.
type headerExchange struct {
	fuzzExchange
	in http.Header
}

func (e *headerExchange) RequestHeader(name string) string {
	return strings.Join(e.in.Values(name), ",")
}

// FuzzTokenTransports feeds arbitrary cookies, X-Session-Token headers and
// Authorization headers to a Manager that reads all three. Whatever they
// hold, the request gets a session; the backend is asked only for keys of
// well-formed ids, so that nothing a client sends reaches the store
// unchecked; and the response hands out one kind of token at most.
func FuzzTokenTransports(f *testing.F) {
	id := core.RandomID{}.NewID()
	for _, seed := range [][3]string{
		{id, "", ""}, {"", id, ""}, {"", "", "Bearer " + id}, {"", "", "bearer\t" + id},
		{"", id + "," + id, ""}, {"", "", "Basic " + id}, {"", "", "Bearer " + strings.Repeat("A", 5000)},
		{"../../etc/passwd", "\x00", "Bearer  "}, {"", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, cookie, token, auth string) {
		b := backendtest.NewRecorder(t)
		m := core.NewManager(b)
		m.Transport = core.ChainTransport(core.CookieTransport(), core.HeaderTransport(""), core.BearerTransport())
		ctx := context.Background()
		stored := m.New(ctx)
		stored.Set("k", "v")
		if _, err := m.Save(ctx, stored); err != nil {
			t.Fatal(err)
		}
		b.Calls()

		ex := &headerExchange{fuzzExchange: fuzzExchange{cookie: cookie, out: http.Header{}}, in: http.Header{}}
		ex.in[core.DefaultTokenHeader] = []string{token}
		ex.in["Authorization"] = []string{auth}
		r := m.Begin(ex)
		s, err := r.Session(ctx)
		if err != nil || s == nil {
			t.Fatalf("no session: %v", err)
		}
		s.Set("n", 1)
		if err := r.Commit(ctx); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		for _, call := range b.Calls() {
			_, key, _ := strings.Cut(call, " ")
			if !(core.RandomID{}).Valid(strings.TrimPrefix(key, m.KeyPrefix)) {
				t.Errorf("backend call %q for a malformed id", call)
			}
		}
		_, cookieSet := ex.setCookie()
		if handed := ex.out.Get(core.DefaultTokenHeader); cookieSet && handed != "" {
			t.Errorf("the response hands out a cookie and token %q", handed)
		}
		if v, _ := s.GetString("k"); v == "v" && !strings.Contains(cookie+token+auth, stored.ID()) {
			t.Errorf("the stored session was reached without its id")
		}
	})
}
