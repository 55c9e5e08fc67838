// Command demo serves a small site that shows cloakroom's sessions at work,
// on any supported framework and backend:
//
//	go run ./examples/demo                       # net/http, memory backend
//	go run ./examples/demo -backend filesystem -dsn /tmp/sessions
//
// Its routes are the contract in DESIGN.md; end-to-end tests drive them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cloakroom/cloakroom/backends/redis"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/signing"
)

// config is the command line.
type config struct {
	addr, framework, backend, dsn, preset, secret string
	protect, trustedProxies, transport            string
	lifetime, idle, backendTimeout                time.Duration
	secure, allowWeakSecret, metrics              bool
	maxSessions                                   int
	// newSessionsPerClient is Manager.NewSessionsPerClient: the command
	// line sets a budget, tests built from a config{} have none.
	newSessionsPerClient int
	// timeouts is no flag: the defaults suit the demo, and tests shorten
	// them so that a stalled client is cut off in milliseconds. A zero
	// field means its default.
	timeouts timeouts
}

// timeouts bound how long one connection may hold the server. Without them
// a client that sends half a body, or its headers a byte at a time, keeps a
// socket and a goroutine for as long as it likes, and a few thousand such
// clients exhaust the server (slowloris).
type timeouts struct {
	readHeader time.Duration // to read the request line and headers
	read       time.Duration // to read the whole request, body included
	write      time.Duration // from the end of the headers to the end of the response
	idle       time.Duration // between two requests on a kept-alive connection
}

// defaultTimeouts are the one set of values every framework's server uses.
// A legitimate client sends its headers in well under 5 s and a 64 KB
// body (the most the demo accepts) in well under 15 s, even on a slow
// link. 30 s to answer leaves room for the backend's deadline (2 s) many
// times over; net/http counts it from the end of the headers, so it also
// bounds a handler that hangs. 60 s idle lets a browser reuse its
// connection from one page view to the next without the server keeping
// idle sockets forever.
var defaultTimeouts = timeouts{
	readHeader: 5 * time.Second,
	read:       15 * time.Second,
	write:      30 * time.Second,
	idle:       60 * time.Second,
}

// orDefault returns t with every zero field set to its default, so that no
// server, in a test or not, runs without a bound.
func (t timeouts) orDefault() timeouts {
	pick := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	pick(&t.readHeader, defaultTimeouts.readHeader)
	pick(&t.read, defaultTimeouts.read)
	pick(&t.write, defaultTimeouts.write)
	pick(&t.idle, defaultTimeouts.idle)
	return t
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.framework, "framework", "nethttp", "nethttp, gin, echo, echo5 (Echo v5), fiber or fiber3 (Fiber v3)")
	fs.StringVar(&c.backend, "backend", "memory", "memory, filesystem, redis, memcached, mongodb, postgres, mysql, sqlite, cookie (signed cookies, no store) or django (Django's django_session table)")
	fs.StringVar(&c.dsn, "dsn", "", "the backend's address: a URL or DSN, a folder for filesystem, a file for sqlite")
	fs.StringVar(&c.preset, "preset", "none", "none or quart (Quart-Session's layout); -backend django implies Django's")
	fs.StringVar(&c.secret, "secret", "", "secret key, comma-separated for rotation (the first signs, all verify): signs ids, or the cookie for -backend cookie, or is Django's SECRET_KEY")
	fs.StringVar(&c.transport, "transport", "cookie", "how the session token travels: cookie, header (X-Session-Token) or bearer (Authorization: Bearer, new tokens in X-Session-Token)")
	fs.StringVar(&c.protect, "protect", "off", "session protection: off, address or network")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	fs.DurationVar(&c.lifetime, "lifetime", 0, "session lifetime (default: 14 days, 31 with -preset quart)")
	fs.DurationVar(&c.idle, "idle", 0, "idle timeout (default: none)")
	fs.DurationVar(&c.backendTimeout, "backend-timeout", 0, "bound on each load and each save, all its attempts included (default: 2s for a save's attempts; each call is bounded by the backend)")
	fs.BoolVar(&c.secure, "secure", false, "serve the cookie with Secure, named with the __Host- prefix so that no other host of the site can set it (needs HTTPS in front; a Flask, Quart or Django peer must use the same cookie name)")
	fs.BoolVar(&c.allowWeakSecret, "allow-weak-secret", false, "accept a -secret shorter than 32 bytes, for a Python peer's secret you cannot change")
	fs.IntVar(&c.maxSessions, "max-sessions", 0, "the most sessions one logged-in user may have at once; a login past it ends the oldest (0: no cap)")
	fs.BoolVar(&c.metrics, "metrics", false, "serve Prometheus metrics at GET /metrics: the sessions' (otelcloakroom), the Go runtime's and the process's")
	fs.IntVar(&c.newSessionsPerClient, "new-sessions-per-client", 120, "new sessions one client address may store per minute; beyond that its requests get 429 (0: no budget)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return c, nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	redis.LogTo(log) // go-redis's own messages too, with secrets masked
	if err := run(log, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Error("demo stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, args []string) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	backend, closeBackend, err := openBackend(ctx, c.backend, c.dsn)
	if err != nil {
		return err
	}
	defer closeBackend()
	m, err := newManager(c, backend, log)
	if err != nil {
		return err
	}
	a := &app{log: log, page: parsePage(), m: m}
	if c.metrics {
		if a.metrics, err = instrument(m); err != nil {
			return err
		}
	}
	srv, err := newServer(c, a, m)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	log.Info("demo listening", "url", "http://"+ln.Addr().String(), "framework", c.framework, "backend", c.backend, "transport", c.transport)
	errc := make(chan error, 1)
	go func() { errc <- srv.serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.shutdown(shutdownCtx)
}

// newManager applies the command line to a Manager.
func newManager(c config, backend core.Backend, log *slog.Logger) (*core.Manager, error) {
	m, err := presetManager(c, backend)
	if err != nil {
		return nil, err
	}
	m.Logger = log
	switch c.transport {
	case "cookie", "":
	case "header":
		m.Transport = core.HeaderTransport("")
	case "bearer":
		m.Transport = core.BearerTransport()
	default:
		return nil, fmt.Errorf("unknown -transport %q", c.transport)
	}
	switch c.protect {
	case "off":
	case "address":
		m.Protection = core.ProtectAddress
	case "network":
		m.Protection = core.ProtectNetwork
	default:
		return nil, fmt.Errorf("unknown -protect %q", c.protect)
	}
	for _, cidr := range strings.FieldsFunc(c.trustedProxies, func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies: %w", err)
		}
		m.TrustedProxies = append(m.TrustedProxies, p)
	}
	if c.lifetime > 0 {
		m.Lifetime = c.lifetime
	}
	m.IdleTimeout = c.idle
	// Without it a session could only shorten the Manager's Lifetime and
	// idle timeout: "remember me" (see app.login) needs 30 days, past the
	// default 14, and no idle timeout under -idle.
	m.MaxLifetime = max(rememberFor, m.Lifetime)
	m.NewSessionsPerClient = c.newSessionsPerClient
	m.BackendTimeout = c.backendTimeout
	m.MaxSessionsPerUser = c.maxSessions
	if c.secure {
		m.Cookie.Secure = true
		m.Cookie.Name = "__Host-" + m.Cookie.Name
	}
	m.AllowWeakSecret = c.allowWeakSecret
	if err := m.Validate(); errors.Is(err, core.ErrWeakSecret) {
		return nil, fmt.Errorf("-secret: %w; -allow-weak-secret accepts it, for a Python peer's secret you cannot change", err)
	} else if err != nil {
		return nil, err
	}
	return m, nil
}

// presetManager returns the Manager for the backend and preset chosen.
func presetManager(c config, backend core.Backend) (*core.Manager, error) {
	secrets := secretList(c.secret)
	switch {
	case c.backend == "cookie":
		return core.NewCookieManager(secrets...)
	case c.backend == "django":
		return core.NewDjangoManager(backend, secrets...)
	}
	var m *core.Manager
	switch c.preset {
	case "none":
		m = core.NewManager(backend)
	case "quart":
		m = core.NewQuartManager(backend)
	default:
		return nil, fmt.Errorf("unknown -preset %q", c.preset)
	}
	if secrets != nil {
		signer, err := signing.NewSigner(signing.QuartSessionSalt, secrets...)
		if err != nil {
			return nil, err
		}
		m.Signer = signer
	}
	return m, nil
}

// secretList splits a comma-separated -secret, trimming each: "new, old"
// must rotate to "old", not to a key " old" that nothing was signed with.
func secretList(flag string) []string {
	var secrets []string
	for s := range strings.SplitSeq(flag, ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	return secrets
}

// server is a framework's HTTP server.
type server struct {
	serve    func(net.Listener) error
	shutdown func(context.Context) error
}

// newServer returns the server of c.framework, bounded by c.timeouts.
func newServer(c config, a *app, m *core.Manager) (server, error) {
	t := c.timeouts.orDefault()
	switch c.framework {
	case "nethttp":
		return httpServer(netHTTPHandler(a, m), t), nil
	case "gin":
		return httpServer(ginHandler(a, m), t), nil
	case "echo":
		return httpServer(echoHandler(a, m), t), nil
	case "fiber":
		return fiberServer(a, m, t), nil
	case "fiber3":
		return fiber3Server(a, m, t), nil
	case "echo5":
		return httpServer(echo5Handler(a, m), t), nil
	}
	return server{}, fmt.Errorf("unknown -framework %q", c.framework)
}

// httpServer serves any http.Handler (gin's and echo's engines are ones)
// with net/http's server, bounded by t.
func httpServer(h http.Handler, t timeouts) server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
	}
	return server{
		serve: func(ln net.Listener) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		shutdown: srv.Shutdown,
	}
}
