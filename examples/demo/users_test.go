package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/internal/demo"
)

// agentClient returns a client of the demo that presents itself as agent.
func agentClient(t *testing.T, base, agent string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Transport: userAgent{agent}}}
}

// userAgent sets the User-Agent of every request.
type userAgent struct{ name string }

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.name)
	return http.DefaultTransport.RoundTrip(r)
}

// mine lists the devices of c's user.
func (c *client) mine() []demo.Device {
	c.t.Helper()
	body, _ := c.do("GET", "/api/me/sessions", "", 200)
	var ds []demo.Device
	if err := json.Unmarshal([]byte(body), &ds); err != nil {
		c.t.Fatalf("/api/me/sessions = %s: %v", body, err)
	}
	return ds
}

func (c *client) login(user string) { c.do("POST", "/api/login", `{"user":"`+user+`"}`, 204) }

// TestDemoUsers drives the user routes on every Backend: three devices of
// one user are listed with their user agents, "log out other devices"
// leaves only the caller logged in, one device is logged out by its handle,
// -max-sessions ends the oldest login, and the ended devices are told why.
func TestDemoUsers(t *testing.T) {
	for _, tc := range concurrencyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			base := startConfigured(t, tc.c)
			user := "alice-" + rand.Text()[:6] // the stores outlive the test
			phone, laptop, tablet := agentClient(t, base, "phone"), agentClient(t, base, "laptop"), agentClient(t, base, "tablet")
			for _, c := range []*client{phone, laptop, tablet} {
				c.login(user)
			}
			ds := laptop.mine()
			var agents []string
			current := 0
			for _, d := range ds {
				agents = append(agents, d.UserAgent)
				if d.Current {
					current++
				}
			}
			if strings.Join(agents, ",") != "phone,laptop,tablet" || current != 1 || !ds[1].Current {
				t.Fatalf("/api/me/sessions lists %+v, want phone, laptop (current) and tablet", ds)
			}
			agentClient(t, base, "stranger").do("GET", "/api/me/sessions", "", 401)
			laptop.do("DELETE", "/api/me/sessions/not-a-handle", "", 404)

			laptop.do("DELETE", "/api/me/sessions", "", 204)
			for _, c := range []*client{phone, tablet} {
				c.do("GET", "/api/me/sessions", "", 401)
			}
			if page, _ := phone.do("GET", "/", "", 200); !strings.Contains(page, "logged out from another device") {
				t.Error("the page of a device logged out elsewhere does not say so")
			}
			if ds := laptop.mine(); len(ds) != 1 || !ds[0].Current {
				t.Fatalf("after logging the others out: %+v, want the laptop alone", ds)
			}

			desk := agentClient(t, base, "desk")
			desk.login(user)
			var handle string
			for _, d := range laptop.mine() {
				if d.UserAgent == "desk" {
					handle = d.Handle
				}
			}
			laptop.do("DELETE", "/api/me/sessions/"+handle, "", 204)
			desk.do("GET", "/api/me/sessions", "", 401)
			laptop.do("DELETE", "/api/me/sessions/"+handle, "", 404)

			capped := tc.c
			capped.MaxSessions = 2
			cappedBase := startConfigured(t, capped)
			first, second, third := agentClient(t, cappedBase, "first"), agentClient(t, cappedBase, "second"), agentClient(t, cappedBase, "third")
			for _, c := range []*client{first, second, third} {
				c.login(user + "-capped")
			}
			first.do("GET", "/api/me/sessions", "", 401)
			if ds := third.mine(); len(ds) != 2 || ds[0].UserAgent != "second" || ds[1].UserAgent != "third" {
				t.Errorf("under -max-sessions 2: %+v, want second and third", ds)
			}
		})
	}
}

// TestDemoUsersTwoProcesses logs one user in 20 times at once through two
// demo processes sharing each store: every login is listed, and logging
// out the others ends all 19 in both processes.
func TestDemoUsersTwoProcesses(t *testing.T) {
	for _, tc := range concurrencyCases(t) {
		if tc.c.Backend == "memory" {
			continue // one process's memory
		}
		t.Run(tc.name, func(t *testing.T) {
			bases := []string{startConfigured(t, tc.c), startProcess(t, tc.c)}
			user := "bob-" + rand.Text()[:6]
			clients := make([]*client, 20)
			var wg sync.WaitGroup
			for i := range clients {
				clients[i] = agentClient(t, bases[i%2], fmt.Sprint("client ", i))
				wg.Add(1)
				go func() {
					defer wg.Done()
					clients[i].login(user)
				}()
			}
			wg.Wait()
			if ds := clients[0].mine(); len(ds) != 20 {
				t.Fatalf("%d of 20 concurrent logins listed", len(ds))
			}
			clients[1].do("DELETE", "/api/me/sessions", "", 204)
			for i, c := range clients {
				want := 401
				if i == 1 {
					want = 200
				}
				c.do("GET", "/api/me/sessions", "", want)
			}
		})
	}
}

// demoArgsEnv carries the command line of a demo that a test runs in a
// process of its own: the test binary, started again, runs the demo.
const demoArgsEnv = "CLOAKROOM_DEMO_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(demoArgsEnv); args != "" {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := run(log, argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProcess runs the demo configured as c in another process and
// returns its base URL once it answers.
func startProcess(t *testing.T, c demo.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"-addr", addr, "-framework", c.Framework, "-backend", c.Backend, "-new-sessions-per-client", "0"}
	for flag, v := range map[string]string{"-dsn": c.DSN, "-secret": c.Secret, "-preset": c.Preset} {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	if c.BackendTimeout != 0 {
		args = append(args, "-backend-timeout", c.BackendTimeout.String())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	argv, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), demoArgsEnv+"="+string(argv))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return base
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the demo process did not answer on %s", addr)
	return ""
}

// Cookie sessions cannot be listed or revoked: the demo says so with 501,
// and its page still works for a logged-in user.
func TestDemoUsersWithCookieSessions(t *testing.T) {
	c := agentClient(t, serveDemo(t, demo.Config{Framework: "nethttp", Backend: "cookie", Secret: "a cookie secret of thirty-two bytes+"}, nil), "phone")
	c.login("alice")
	c.do("GET", "/api/me/sessions", "", http.StatusNotImplemented)
	c.do("DELETE", "/api/me/sessions", "", http.StatusNotImplemented)
	if page, _ := c.do("GET", "/", "", 200); !strings.Contains(page, "alice") {
		t.Error("the page lost the login")
	}
}
