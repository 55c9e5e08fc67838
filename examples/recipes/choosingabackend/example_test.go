package choosingabackend_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/backends/memcached"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/backends/mongodb"
	"github.com/cloakroom/cloakroom/backends/redis"
	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/mysql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
	"github.com/cloakroom/cloakroom/core"
)

// config is what a deployment chooses.
type config struct {
	Backend string // memory, filesystem, redis, memcached, mongodb, postgres, mysql, sqlite or cookie
	DSN     string // a URL or DSN; a folder for filesystem, a file for sqlite
	Secret  string // cookie only: at least 32 bytes
}

// closer is every backend's Close.
type closer interface {
	core.Backend
	Close() error
}

// openSessions returns a Manager over the backend c names and the function
// that closes the backend. Every Open checks that its server answers and
// bounds each call, so that a store that stops answering fails a request
// within 2 seconds.
func openSessions(ctx context.Context, c config) (*core.Manager, func() error, error) {
	var store closer
	var err error
	switch c.Backend {
	case "cookie":
		m, err := core.NewCookieManager(c.Secret)
		return m, func() error { return nil }, err
	case "memory":
		store = memory.New(memory.Options{})
	case "filesystem":
		store, err = filesystem.New(c.DSN, filesystem.Options{})
	case "redis": // redis://, rediss://, redis+sentinel://, redis+cluster://
		store, err = redis.Open(ctx, c.DSN, redis.Options{})
	case "memcached": // host:port,host:port
		store, err = memcached.Open(ctx, c.DSN, memcached.Options{})
	case "mongodb":
		store, err = mongodb.Open(ctx, c.DSN, mongodb.Options{})
	case "postgres":
		store, err = openSQL(ctx, postgres.Open, c.DSN)
	case "mysql":
		store, err = openSQL(ctx, mysql.Open, c.DSN)
	case "sqlite": // a file
		store, err = openSQL(ctx, sqlite.Open, c.DSN)
	default:
		return nil, nil, fmt.Errorf("unknown session backend %q", c.Backend)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("session backend %s: %w", c.Backend, err)
	}
	return core.NewManager(store), store.Close, nil
}

// openSQL opens a SQL store with a driver's Open and creates its table
// unless it exists.
func openSQL(ctx context.Context, open func(context.Context, string, sqlstore.Options) (*sqlstore.Store, error), dsn string) (*sqlstore.Store, error) {
	db, err := open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	if err := db.CreateTable(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// The same handler on four backends that need no server: each counts two
// visits of one client.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	for _, c := range []config{
		{Backend: "memory"},
		{Backend: "filesystem", DSN: filepath.Join(dir, "files")},
		{Backend: "sqlite", DSN: filepath.Join(dir, "sessions.db")},
		{Backend: "cookie", Secret: "a secret of at least thirty-two bytes"},
	} {
		m, closeStore, err := openSessions(ctx, c)
		if err != nil {
			fmt.Println(err)
			continue
		}
		handler := nethttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := nethttp.Get(r)
			if err != nil {
				http.Error(w, "session unavailable", core.HTTPStatus(err))
				return
			}
			n, _ := s.Incr("visits", 1)
			fmt.Fprintf(w, "visit %d", n)
		}))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		again := httptest.NewRequest("GET", "/", nil)
		again.AddCookie(rec.Result().Cookies()[0])
		rec = httptest.NewRecorder()
		handler.ServeHTTP(rec, again)
		fmt.Printf("%s: %s\n", c.Backend, rec.Body)
		closeStore()
	}
	// Output:
	// memory: visit 2
	// filesystem: visit 2
	// sqlite: visit 2
	// cookie: visit 2
}
