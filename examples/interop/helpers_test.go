package interop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// python is Debian's interpreter: the packages the peers need are Debian's,
// and a python3 earlier on the PATH (pyenv's) does not see them.
const python = "/usr/bin/python3"

const (
	readyTimeout   = 30 * time.Second
	requestTimeout = 10 * time.Second
)

// requirePython skips (or fails, under CLOAKROOM_REQUIRE_SERVICES=1) when
// /usr/bin/python3 cannot import modules.
func requirePython(t *testing.T, modules string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import "+modules).CombinedOutput()
	if err != nil {
		backendtest.Unavailable(t, python+" with "+modules+" (bash scripts/services/python.sh start)",
			fmt.Errorf("%v: %s", err, bytes.TrimSpace(out)))
	}
}

var demoBuild struct {
	once sync.Once
	path string
	err  error
}

// demoBinary builds examples/demo once per test binary.
func demoBinary(t *testing.T) string {
	t.Helper()
	demoBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "cloakroom-interop-")
		if err != nil {
			demoBuild.err = err
			return
		}
		demoBuild.path = filepath.Join(dir, "demo")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", demoBuild.path, "../demo")
		if out, err := cmd.CombinedOutput(); err != nil {
			demoBuild.err = fmt.Errorf("go build ../demo: %v\n%s", err, out)
		}
	})
	if demoBuild.err != nil {
		t.Fatal(demoBuild.err)
	}
	return demoBuild.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoBuild.path != "" {
		os.RemoveAll(filepath.Dir(demoBuild.path))
	}
	os.Exit(code)
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// peer is an HTTP server the test started: the demo or a Python app.
type peer struct {
	name string
	base string // http://127.0.0.1:port
}

// start runs argv as name, listening on addr, and waits until GET
// readyPath answers 200. The process is killed when the test ends; its
// output goes to the test log when the test failed.
func start(t *testing.T, name, addr, readyPath string, env []string, dir string, argv ...string) *peer {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	cmd.Env = append(cmd.Env, env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not exit within 10s of being killed", name)
		}
		if t.Failed() {
			t.Logf("output of %s (%s):\n%s", name, strings.Join(argv, " "), out.String())
		}
	})
	p := &peer{name: name, base: "http://" + addr}
	deadline := time.Now().Add(readyTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			t.Fatalf("%s exited before it was ready (%v):\n%s", name, err, out.String())
		default:
		}
		resp, err := client.Get(p.base + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready on %s within %v (last: %v)", name, addr, readyTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startDemo runs the demo binary with flags on a free port.
func startDemo(t *testing.T, flags ...string) *peer {
	t.Helper()
	bin := demoBinary(t)
	addr := freeAddr(t)
	return start(t, "demo", addr, "/healthz", nil, "", append([]string{bin, "-addr", addr}, flags...)...)
}

// startPython runs a Python app, `python script... PORT`-style: args may
// hold "{addr}" or "{port}", replaced by the free address chosen.
func startPython(t *testing.T, name, dir string, env []string, args ...string) *peer {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	argv := []string{python}
	for _, a := range args {
		a = strings.ReplaceAll(a, "{addr}", addr)
		argv = append(argv, strings.ReplaceAll(a, "{port}", port))
	}
	return start(t, name, addr, "/ready", env, dir, argv...)
}

// response is what call returns.
type response struct {
	status int
	body   []byte
	header http.Header
}

// cookie returns the value of the Set-Cookie for name, and whether there
// was one.
func (r response) cookie(name string) (*http.Cookie, bool) {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// call sends one request to p carrying cookie (name=value) when value is
// not empty. No jar: the test moves cookies between peers by hand.
func (p *peer) call(t *testing.T, method, path, cookieName, cookieValue, body string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookieValue != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: cookieValue})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", p.name, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s %s %s: reading body: %v", p.name, method, path, err)
	}
	return response{status: resp.StatusCode, body: b, header: resp.Header}
}

// mustCall is call that also checks the status.
func (p *peer) mustCall(t *testing.T, want int, method, path, cookieName, cookieValue, body string) response {
	t.Helper()
	r := p.call(t, method, path, cookieName, cookieValue, body)
	if r.status != want {
		t.Fatalf("%s %s %s: status %d, want %d; body: %s", p.name, method, path, r.status, want, r.body)
	}
	return r
}

// setCookie returns the value of the cookie r sets, failing when it sets
// none.
func setCookie(t *testing.T, who string, r response, name string) string {
	t.Helper()
	c, ok := r.cookie(name)
	if !ok || c.Value == "" {
		t.Fatalf("%s set no %q cookie; Set-Cookie: %q", who, name, r.header.Values("Set-Cookie"))
	}
	return c.Value
}
