// Package stores opens the backend an operator names on the command line,
// with the flag values and DSN conventions of the demo (examples/demo):
// -backend filesystem|redis|memcached|mongodb|postgres|mysql|sqlite|django
// and -dsn, a URL or DSN, a folder for filesystem, a file for SQLite.
//
// Unlike the demo, it opens what exists and changes nothing: no folder,
// file, table or index is created, and no background clean-up runs, so
// that a mistyped -dsn fails instead of showing an empty store.
package stores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/backends/memcached"
	"github.com/cloakroom/cloakroom/backends/mongodb"
	"github.com/cloakroom/cloakroom/backends/redis"
	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/mysql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
	"github.com/cloakroom/cloakroom/core"
)

// Names returns the backends Open knows, in the order a usage shows them.
func Names() []string {
	return []string{"filesystem", "redis", "memcached", "mongodb", "postgres", "mysql", "sqlite", "django"}
}

// DefaultDSN returns the address the demo uses for the backend name when
// -dsn is not given: the local servers of the repository's tests, or a
// folder or file in the temporary directory. It is "" for a name Open
// does not know.
func DefaultDSN(name string) string {
	switch name {
	case "filesystem":
		return filepath.Join(os.TempDir(), "cloakroom-demo-sessions")
	case "redis":
		return "redis://127.0.0.1:6379/0"
	case "memcached":
		return "127.0.0.1:11211"
	case "mongodb":
		return "mongodb://127.0.0.1:27017/cloakroom_demo"
	case "postgres", "django":
		return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	case "mysql":
		return "root@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC"
	case "sqlite":
		return filepath.Join(os.TempDir(), "cloakroom-demo.sqlite")
	}
	return ""
}

// Options are what a deployment may have changed beside the address.
type Options struct {
	// Table is the SQL table of postgres, mysql and sqlite; "" means
	// cloakroom's own (cloakroom_sessions). The django backend always uses
	// Django's django_session.
	Table string
	// Logger receives the backends' warnings; nil discards them.
	Logger *slog.Logger
}

// Open connects to the backend name at dsn ("" for DefaultDSN) and returns
// it with the function that releases it. Each backend's Open bounds its
// connecting and checks that the server answers, so that an unreachable
// server fails within seconds (a closed port at once): give ctx no
// deadline of its own, which would replace MongoDB's. Errors never hold
// the DSN's password.
func Open(ctx context.Context, name, dsn string, opts Options) (core.Backend, func() error, error) {
	if dsn == "" {
		dsn = DefaultDSN(name)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b, closer, err := open(ctx, name, dsn, opts)
	if err != nil {
		return nil, nil, errors.New(Redact(err.Error(), dsn))
	}
	return b, closer, nil
}

func open(ctx context.Context, name, dsn string, opts Options) (core.Backend, func() error, error) {
	switch name {
	case "memory":
		return nil, nil, errors.New("-backend memory lives inside one process: no other program can see its sessions; name the backend the application uses")
	case "cookie":
		return nil, nil, errors.New("-backend cookie keeps sessions in the browsers: there is nothing on a server to list or revoke")
	case "filesystem":
		return openFolder(dsn)
	case "redis":
		s, err := redis.Open(ctx, dsn, redis.Options{})
		return closable(s, err)
	case "memcached":
		s, err := memcached.Open(ctx, dsn, memcached.Options{})
		return closable(s, err)
	case "mongodb":
		// No index is created and no clean-up runs: purge does it on demand.
		s, err := mongodb.Open(ctx, dsn, mongodb.Options{SkipIndexes: true, CleanupInterval: -1, Logger: opts.Logger})
		return closable(s, err)
	case "postgres", "mysql", "sqlite":
		return openSQL(ctx, name, dsn, sqlstore.Table{Name: opts.Table}, opts.Logger)
	case "django":
		return openSQL(ctx, djangoDriver(dsn), dsn, sqlstore.DjangoTable, opts.Logger)
	case "":
		return nil, nil, fmt.Errorf("no -backend: name one of %s", strings.Join(Names(), ", "))
	}
	return nil, nil, fmt.Errorf("unknown -backend %q: name one of %s", name, strings.Join(Names(), ", "))
}

// openFolder opens the filesystem store in dir, which must exist: a
// mistyped folder is an error, not a new empty store.
func openFolder(dir string) (core.Backend, func() error, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("filesystem: %w", err)
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("filesystem: %s is not a folder", dir)
	}
	s, err := filesystem.New(dir, filesystem.Options{CleanupInterval: -1})
	return closable(s, err)
}

// openSQL opens the table on the database at dsn with driver (postgres,
// mysql or sqlite). The table is not created: a missing one is reported
// by the first command.
func openSQL(ctx context.Context, driver, dsn string, table sqlstore.Table, log *slog.Logger) (core.Backend, func() error, error) {
	opts := sqlstore.Options{Table: table, CleanupInterval: -1, Logger: log}
	var s *sqlstore.Store
	var err error
	switch driver {
	case "postgres":
		s, err = postgres.Open(ctx, dsn, opts)
	case "mysql":
		s, err = mysql.Open(ctx, dsn, opts)
	default:
		if err := sqliteExists(dsn); err != nil {
			return nil, nil, err
		}
		s, err = sqlite.Open(ctx, dsn, opts)
	}
	return closable(s, err)
}

// sqliteExists refuses a SQLite database that sqlite.Open would create:
// a file that does not exist, or one in memory.
func sqliteExists(dsn string) error {
	path := dsn
	for _, scheme := range []string{"sqlite://", "sqlite3://", "sqlite:", "file:"} {
		if len(path) >= len(scheme) && strings.EqualFold(path[:len(scheme)], scheme) {
			path = path[len(scheme):]
			break
		}
	}
	path, _, _ = strings.Cut(path, "?")
	if path == "" || path == ":memory:" || strings.Contains(dsn, "mode=memory") {
		return errors.New("sqlite: an in-memory database belongs to the process that made it; name the database file")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// djangoDriver picks the driver of Django's database from the DSN's
// scheme, as the demo does: PostgreSQL and MySQL URLs, a SQLite file
// otherwise.
func djangoDriver(dsn string) string {
	scheme, _, _ := strings.Cut(dsn, "://")
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return "postgres"
	case "mysql", "mariadb":
		return "mysql"
	}
	return "sqlite"
}

type closer interface {
	core.Backend
	Close() error
}

func closable[T closer](s T, err error) (core.Backend, func() error, error) {
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}
