package main

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloakroom/cloakroom/backends/memcached"
	"github.com/cloakroom/cloakroom/backends/mongodb"
	"github.com/cloakroom/cloakroom/backends/redis"
	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/mysql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// backends open the stores this build adds to the root module's demo
// (memory, filesystem and cookie), at -dsn or else at the local server
// the tests use.
var backends = map[string]demo.Opener{
	"redis": func(ctx context.Context, dsn string) (core.Backend, func(), error) {
		return demo.Closable(redis.Open(ctx, cmp.Or(dsn, "redis://127.0.0.1:6379/0"), redis.Options{}))
	},
	"memcached": func(ctx context.Context, dsn string) (core.Backend, func(), error) {
		return demo.Closable(memcached.Open(ctx, cmp.Or(dsn, "127.0.0.1:11211"), memcached.Options{}))
	},
	"mongodb": func(ctx context.Context, dsn string) (core.Backend, func(), error) {
		return demo.Closable(mongodb.Open(ctx, cmp.Or(dsn, "mongodb://127.0.0.1:27017/cloakroom_demo"), mongodb.Options{}))
	},
	"postgres": func(ctx context.Context, dsn string) (core.Backend, func(), error) {
		return openSQL(ctx, "postgres", cmp.Or(dsn, postgresDSN))
	},
	"mysql": func(ctx context.Context, dsn string) (core.Backend, func(), error) {
		return openSQL(ctx, "mysql", cmp.Or(dsn, "root@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC"))
	},
	"sqlite": func(ctx context.Context, dsn string) (core.Backend, func(), error) {
		return openSQL(ctx, "sqlite", cmp.Or(dsn, filepath.Join(os.TempDir(), "cloakroom-demo.sqlite")))
	},
	// Django's django_session table, on the database dsn names.
	"django": func(ctx context.Context, dsn string) (core.Backend, func(), error) {
		return openDjango(ctx, cmp.Or(dsn, postgresDSN))
	},
}

// postgresDSN is the local PostgreSQL the tests use.
const postgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

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
	return demo.Closable(s, nil)
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
	return demo.Closable(s, err)
}
