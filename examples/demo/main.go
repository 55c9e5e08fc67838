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

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/signing"
)

// config is the command line.
type config struct {
	addr, framework, backend, dsn, preset, secret string
	protect, trustedProxies                       string
	lifetime, idle                                time.Duration
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.framework, "framework", "nethttp", "nethttp, gin, echo or fiber")
	fs.StringVar(&c.backend, "backend", "memory", "memory, filesystem, redis, memcached, mongodb, postgres, mysql, sqlite, cookie (signed cookies, no store) or django (Django's django_session table)")
	fs.StringVar(&c.dsn, "dsn", "", "the backend's address: a URL or DSN, a folder for filesystem, a file for sqlite")
	fs.StringVar(&c.preset, "preset", "none", "none or quart (Quart-Session's layout); -backend django implies Django's")
	fs.StringVar(&c.secret, "secret", "", "secret key, comma-separated for rotation (the first signs, all verify): signs ids, or the cookie for -backend cookie, or is Django's SECRET_KEY")
	fs.StringVar(&c.protect, "protect", "off", "session protection: off, address or network")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	fs.DurationVar(&c.lifetime, "lifetime", 0, "session lifetime (default: 14 days, 31 with -preset quart)")
	fs.DurationVar(&c.idle, "idle", 0, "idle timeout (default: none)")
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
	a := &app{log: log, page: parsePage()}
	srv, err := newServer(c.framework, a, m)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	log.Info("demo listening", "url", "http://"+ln.Addr().String(), "framework", c.framework, "backend", c.backend)
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
	return m, nil
}

// presetManager returns the Manager for the backend and preset chosen.
func presetManager(c config, backend core.Backend) (*core.Manager, error) {
	var secrets []string
	if c.secret != "" {
		secrets = strings.Split(c.secret, ",")
	}
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

// server is a framework's HTTP server.
type server struct {
	serve    func(net.Listener) error
	shutdown func(context.Context) error
}

func newServer(framework string, a *app, m *core.Manager) (server, error) {
	switch framework {
	case "nethttp":
		return httpServer(netHTTPHandler(a, m)), nil
	case "gin":
		return httpServer(ginHandler(a, m)), nil
	case "echo":
		return httpServer(echoHandler(a, m)), nil
	case "fiber":
		return fiberServer(a, m), nil
	}
	return server{}, fmt.Errorf("unknown -framework %q", framework)
}

// httpServer serves any http.Handler.
func httpServer(h http.Handler) server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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
