package demo

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/signing"
)

// Config is the demo's command line.
type Config struct {
	Addr, Framework, Backend, DSN, Preset, Secret string
	Protect, TrustedProxies, Transport            string
	Lifetime, Idle, BackendTimeout                time.Duration
	Secure, AllowWeakSecret, Metrics              bool
	MaxSessions                                   int
	// NewSessionsPerClient is Manager.NewSessionsPerClient: the command
	// line sets a budget, tests built from a Config{} have none.
	NewSessionsPerClient int
	// Timeouts is no flag: the defaults suit the demo, and tests shorten
	// them so that a stalled client is cut off in milliseconds. A zero
	// field means its default.
	Timeouts Timeouts
}

// Timeouts bound how long one connection may hold the server. Without them
// a client that sends half a body, or its headers a byte at a time, keeps a
// socket and a goroutine for as long as it likes, and a few thousand such
// clients exhaust the server (slowloris).
type Timeouts struct {
	ReadHeader time.Duration // to read the request line and headers
	Read       time.Duration // to read the whole request, body included
	Write      time.Duration // from the end of the headers to the end of the response
	Idle       time.Duration // between two requests on a kept-alive connection
}

// DefaultTimeouts are the one set of values every framework's server uses.
// A legitimate client sends its headers in well under 5 s and a 64 KB
// body (the most the demo accepts) in well under 15 s, even on a slow
// link. 30 s to answer leaves room for the backend's deadline (2 s) many
// times over; net/http counts it from the end of the headers, so it also
// bounds a handler that hangs. 60 s idle lets a browser reuse its
// connection from one page view to the next without the server keeping
// idle sockets forever.
var DefaultTimeouts = Timeouts{
	ReadHeader: 5 * time.Second,
	Read:       15 * time.Second,
	Write:      30 * time.Second,
	Idle:       60 * time.Second,
}

// OrDefault returns t with every zero field set to its default, so that no
// server, in a test or not, runs without a bound.
func (t Timeouts) OrDefault() Timeouts {
	pick := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	pick(&t.ReadHeader, DefaultTimeouts.ReadHeader)
	pick(&t.Read, DefaultTimeouts.Read)
	pick(&t.Write, DefaultTimeouts.Write)
	pick(&t.Idle, DefaultTimeouts.Idle)
	return t
}

// ParseFlags reads the command line; ext names the frameworks and backends
// beyond the built-in ones that -framework and -backend accept.
func ParseFlags(args []string, ext Extensions) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.Framework, "framework", "nethttp", "the web framework: "+ext.frameworkNames())
	fs.StringVar(&c.Backend, "backend", "memory", "where sessions are kept: "+ext.backendNames())
	fs.StringVar(&c.DSN, "dsn", "", "the backend's address: a URL or DSN, a folder for filesystem, a file for sqlite")
	fs.StringVar(&c.Preset, "preset", "none", "none or quart (Quart-Session's layout); -backend django implies Django's")
	fs.StringVar(&c.Secret, "secret", "", "secret key, comma-separated for rotation (the first signs, all verify): signs ids, or the cookie for -backend cookie, or is Django's SECRET_KEY")
	fs.StringVar(&c.Transport, "transport", "cookie", "how the session token travels: cookie, header (X-Session-Token) or bearer (Authorization: Bearer, new tokens in X-Session-Token)")
	fs.StringVar(&c.Protect, "protect", "off", "session protection: off, address or network")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	fs.DurationVar(&c.Lifetime, "lifetime", 0, "session lifetime (default: 14 days, 31 with -preset quart)")
	fs.DurationVar(&c.Idle, "idle", 0, "idle timeout (default: none)")
	fs.DurationVar(&c.BackendTimeout, "backend-timeout", 0, "bound on each load and each save, all its attempts included (default: 2s for a save's attempts; each call is bounded by the backend)")
	fs.BoolVar(&c.Secure, "secure", false, "serve the cookie with Secure, named with the __Host- prefix so that no other host of the site can set it (needs HTTPS in front; a Flask, Quart or Django peer must use the same cookie name)")
	fs.BoolVar(&c.AllowWeakSecret, "allow-weak-secret", false, "accept a -secret shorter than 32 bytes, for a Python peer's secret you cannot change")
	fs.IntVar(&c.MaxSessions, "max-sessions", 0, "the most sessions one logged-in user may have at once; a login past it ends the oldest (0: no cap)")
	if ext.Instrument != nil {
		fs.BoolVar(&c.Metrics, "metrics", false, "serve Prometheus metrics at GET /metrics: the sessions' (otelcloakroom), the Go runtime's and the process's")
	}
	fs.IntVar(&c.NewSessionsPerClient, "new-sessions-per-client", 120, "new sessions one client address may store per minute; beyond that its requests get 429 (0: no budget)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return c, nil
}

// NewManager applies the command line to a Manager over backend.
func NewManager(c Config, backend core.Backend, log *slog.Logger) (*core.Manager, error) {
	m, err := presetManager(c, backend)
	if err != nil {
		return nil, err
	}
	m.Logger = log
	switch c.Transport {
	case "cookie", "":
	case "header":
		m.Transport = core.HeaderTransport("")
	case "bearer":
		m.Transport = core.BearerTransport()
	default:
		return nil, fmt.Errorf("unknown -transport %q", c.Transport)
	}
	switch c.Protect {
	case "off", "":
	case "address":
		m.Protection = core.ProtectAddress
	case "network":
		m.Protection = core.ProtectNetwork
	default:
		return nil, fmt.Errorf("unknown -protect %q", c.Protect)
	}
	for _, cidr := range strings.FieldsFunc(c.TrustedProxies, func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies: %w", err)
		}
		m.TrustedProxies = append(m.TrustedProxies, p)
	}
	if c.Lifetime > 0 {
		m.Lifetime = c.Lifetime
	}
	m.IdleTimeout = c.Idle
	// Without it a session could only shorten the Manager's Lifetime and
	// idle timeout: "remember me" (see App.login) needs 30 days, past the
	// default 14, and no idle timeout under -idle.
	m.MaxLifetime = max(RememberFor, m.Lifetime)
	m.NewSessionsPerClient = c.NewSessionsPerClient
	m.BackendTimeout = c.BackendTimeout
	m.MaxSessionsPerUser = c.MaxSessions
	if c.Secure {
		m.Cookie.Secure = true
		m.Cookie.Name = "__Host-" + m.Cookie.Name
	}
	m.AllowWeakSecret = c.AllowWeakSecret
	if err := m.Validate(); errors.Is(err, core.ErrWeakSecret) {
		return nil, fmt.Errorf("-secret: %w; -allow-weak-secret accepts it, for a Python peer's secret you cannot change", err)
	} else if err != nil {
		return nil, err
	}
	return m, nil
}

// presetManager returns the Manager for the backend and preset chosen.
func presetManager(c Config, backend core.Backend) (*core.Manager, error) {
	secrets := SecretList(c.Secret)
	switch {
	case c.Backend == "cookie" && secrets == nil:
		// The cookie holds the session itself, signed: without a key
		// anyone could write one.
		return nil, errors.New("-backend cookie needs a -secret of 32 bytes or more to sign the cookie, e.g. -secret \"$(openssl rand -hex 32)\"")
	case c.Backend == "cookie":
		return core.NewCookieManager(secrets...)
	case c.Backend == "django":
		return core.NewDjangoManager(backend, secrets...)
	}
	var m *core.Manager
	switch c.Preset {
	case "none", "":
		m = core.NewManager(backend)
	case "quart":
		m = core.NewQuartManager(backend)
	default:
		return nil, fmt.Errorf("unknown -preset %q", c.Preset)
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

// SecretList splits a comma-separated -secret, trimming each: "new, old"
// must rotate to "old", not to a key " old" that nothing was signed with.
func SecretList(flag string) []string {
	var secrets []string
	for s := range strings.SplitSeq(flag, ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	return secrets
}

// names lists a map's keys and more, sorted, as a flag's help says them.
func names[V any](m map[string]V, more ...string) string {
	for k := range m {
		more = append(more, k)
	}
	sort.Strings(more)
	return strings.Join(more, ", ")
}
