package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
)

// get sends a GET for url with cookies and returns the response's body and
// cookies.
func get(t *testing.T, url string, cookies []*http.Cookie) (string, []*http.Cookie) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, res.Status, body)
	}
	return string(body), res.Cookies()
}

func TestSessionThroughGin(t *testing.T) {
	gin.SetMode(gin.TestMode)
	store := memory.New(memory.Options{})
	defer store.Close()
	srv := httptest.NewServer(newRouter(core.NewManager(store)))
	defer srv.Close()

	_, cookies := get(t, srv.URL+"/set?v=hello", nil)
	if len(cookies) == 0 {
		t.Fatal("no session cookie in the response to /set")
	}
	if got, _ := get(t, srv.URL+"/get", cookies); got != "hello" {
		t.Errorf("the session sent back holds %q, want %q", got, "hello")
	}
	if got, _ := get(t, srv.URL+"/get", nil); got != "" {
		t.Errorf("a request without the cookie got %q, want an empty session", got)
	}
}

func TestHeaderTokenThroughEcho(t *testing.T) {
	store := memory.New(memory.Options{})
	defer store.Close()
	srv := httptest.NewServer(newEcho(core.NewManager(store)))
	defer srv.Close()

	token := ""
	for want := 1; want <= 2; want++ {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/visits", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(core.DefaultTokenHeader, token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != fmt.Sprint(want) || len(res.Cookies()) > 0 {
			t.Fatalf("visit %d = %q with cookies %v, want %d and no cookie", want, body, res.Cookies(), want)
		}
		if v := res.Header.Get(core.DefaultTokenHeader); v != "" {
			token = v
		}
	}
}
