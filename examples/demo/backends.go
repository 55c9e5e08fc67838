package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// defaultDSN is each backend's address when -dsn is not given: the local
// servers DESIGN.md's tests use.
var defaultDSN = map[string]string{
	"filesystem": filepath.Join(os.TempDir(), "cloakroom-demo-sessions"),
	"redis":      "redis://127.0.0.1:6379/0",
	"memcached":  "127.0.0.1:11211",
	"mongodb":    "mongodb://127.0.0.1:27017/cloakroom_demo",
	"postgres":   "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
	"mysql":      "root@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC",
	"sqlite":     filepath.Join(os.TempDir(), "cloakroom-demo.sqlite"),
	"django":     "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
}

// openBackend connects the backend named by -backend and returns a
// function that releases it.
func openBackend(ctx context.Context, name, dsn string) (core.Backend, func(), error) {
	if dsn == "" {
		dsn = defaultDSN[name]
	}
	switch name {
	case "memory":
		s := memory.New(memory.Options{})
		return s, func() { s.Close() }, nil
	case "filesystem":
		s, err := filesystem.New(dsn, filesystem.Options{})
		return closable(s, err)
	case "redis":
		s, err := redis.Open(ctx, dsn, redis.Options{})
		return closable(s, err)
	case "memcached":
		s, err := memcached.Open(ctx, dsn, memcached.Options{})
		return closable(s, err)
	case "mongodb":
		s, err := mongodb.Open(ctx, dsn, mongodb.Options{})
		return closable(s, err)
	case "postgres", "mysql", "sqlite":
		return openSQL(ctx, name, dsn)
	case "cookie":
		return nil, func() {}, nil // the session lives in the cookie
	case "django":
		return openDjango(ctx, dsn)
	}
	return nil, nil, fmt.Errorf("unknown -backend %q", name)
}

// openSQL opens the SQL backend named by -backend (postgres, mysql or
// sqlite) and creates cloakroom's table if it is missing.
func openSQL(ctx context.Context, name, dsn string) (core.Backend, func(), error) {
	s, err := sqlOpeners[name](ctx, dsn, sqlstore.Options{})
	if err != nil {
		return nil, nil, err
	}
	if err := s.CreateTable(ctx); err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// sqlOpeners are the SQL drivers' Open functions by -backend name.
var sqlOpeners = map[string]func(context.Context, string, sqlstore.Options) (*sqlstore.Store, error){
	"postgres": postgres.Open,
	"mysql":    mysql.Open,
	"sqlite":   sqlite.Open,
}

// openDjango opens Django's django_session table on the database named by
// dsn, whose scheme picks the driver. Django's migrations own the table, so
// it is not created here.
func openDjango(ctx context.Context, dsn string) (core.Backend, func(), error) {
	driver := "sqlite"
	switch scheme, _, _ := strings.Cut(dsn, "://"); scheme {
	case "postgres", "postgresql":
		driver = "postgres"
	case "mysql", "mariadb":
		driver = "mysql"
	}
	s, err := sqlOpeners[driver](ctx, dsn, sqlstore.Options{Table: sqlstore.DjangoTable})
	return closable(s, err)
}

type closer interface {
	core.Backend
	Close() error
}

func closable[T closer](s T, err error) (core.Backend, func(), error) {
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}
