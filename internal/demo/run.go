package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// Extensions are what a build of the demo adds to the built-in net/http
// server and memory, filesystem and cookie stores. The root module's
// cmd/demo adds nothing, so that it builds from the standard library alone;
// examples/demo adds every framework and backend of the repository.
type Extensions struct {
	// Frameworks serve the App under a -framework name.
	Frameworks map[string]func(*App, Timeouts) Server
	// Backends open a store under a -backend name; dsn is -dsn.
	Backends map[string]Opener
	// Instrument, when set, enables -metrics: it instruments m and returns
	// the handler of GET /metrics.
	Instrument func(m *core.Manager) (http.Handler, error)
}

// Opener opens a backend at dsn and returns the function that releases it.
type Opener func(ctx context.Context, dsn string) (core.Backend, func(), error)

func (ext Extensions) frameworkNames() string { return names(ext.Frameworks, "nethttp") }

func (ext Extensions) backendNames() string {
	return names(ext.Backends, "memory", "filesystem", "cookie (signed cookies, no store)")
}

// Server is a framework's HTTP server.
type Server struct {
	Serve    func(net.Listener) error
	Shutdown func(context.Context) error
}

// HTTPServer serves any http.Handler (gin's and echo's engines are ones)
// with net/http's server, bounded by t.
func HTTPServer(h http.Handler, t Timeouts) Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
	return Server{
		Serve: func(ln net.Listener) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		Shutdown: srv.Shutdown,
	}
}

// NewServer returns the server of c.Framework for a, bounded by c.Timeouts.
func NewServer(c Config, a *App, ext Extensions) (Server, error) {
	t := c.Timeouts.OrDefault()
	if c.Framework == "nethttp" || c.Framework == "" {
		return HTTPServer(a.Handler(), t), nil
	}
	if serve, ok := ext.Frameworks[c.Framework]; ok {
		return serve(a, t), nil
	}
	return Server{}, fmt.Errorf("unknown -framework %q (want %s)", c.Framework, ext.frameworkNames())
}

// OpenBackend connects the backend c names and returns a function that
// releases it. The cookie backend is nil: the session lives in the cookie.
func OpenBackend(ctx context.Context, c Config, ext Extensions) (core.Backend, func(), error) {
	switch c.Backend {
	case "memory", "":
		return Closable(memory.New(memory.Options{}), nil)
	case "filesystem":
		dir := cmp.Or(c.DSN, filepath.Join(os.TempDir(), "cloakroom-demo-sessions"))
		return Closable(filesystem.New(dir, filesystem.Options{}))
	case "cookie":
		return nil, func() {}, nil
	}
	if open, ok := ext.Backends[c.Backend]; ok {
		return open(ctx, c.DSN)
	}
	return nil, nil, fmt.Errorf("unknown -backend %q (want %s)", c.Backend, ext.backendNames())
}

// New builds the demo that c describes over backend: its Manager, its App,
// instrumented when c asks for metrics, and the server of its framework.
func New(c Config, backend core.Backend, log *slog.Logger, ext Extensions) (*App, Server, error) {
	m, err := NewManager(c, backend, log)
	if err != nil {
		return nil, Server{}, err
	}
	a := NewApp(log, m, c)
	if c.Metrics {
		if ext.Instrument == nil {
			return nil, Server{}, errors.New("-metrics: this build of the demo has no metrics")
		}
		if a.Metrics, err = ext.Instrument(m); err != nil {
			return nil, Server{}, err
		}
	}
	srv, err := NewServer(c, a, ext)
	return a, srv, err
}

// Closable returns what an Opener returns for a backend that an Open or
// New function gave with err.
func Closable[T interface {
	core.Backend
	Close() error
}](s T, err error) (core.Backend, func(), error) {
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// Run serves the demo as the command line args asks until ctx ends, then
// shuts it down within 5 seconds.
func Run(ctx context.Context, log *slog.Logger, args []string, ext Extensions) error {
	c, err := ParseFlags(args, ext)
	if err != nil {
		return err
	}
	backend, closeBackend, err := OpenBackend(ctx, c, ext)
	if err != nil {
		return err
	}
	defer closeBackend()
	a, srv, err := New(c, backend, log, ext)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	log.Info("demo listening", "url", "http://"+ln.Addr().String(), "framework", a.Framework, "backend", a.Backend, "transport", c.Transport)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
