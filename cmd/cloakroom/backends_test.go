package main

import (
	"context"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/backends/memcached"
	"github.com/cloakroom/cloakroom/backends/mongodb"
	"github.com/cloakroom/cloakroom/backends/redis"
	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/mysql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// The servers' addresses, from the variables the backends' own tests
// read, with the same defaults.
func redisDSN() string {
	return "redis://" + backendtest.Env("CLOAKROOM_REDIS_ADDR", "127.0.0.1:6379") + "/0"
}

func memcachedDSN() string {
	return backendtest.Env("CLOAKROOM_MEMCACHED_ADDRS", "127.0.0.1:11211,127.0.0.1:11212")
}

func postgresDSN() string {
	return backendtest.Env("CLOAKROOM_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/cloakroom_test?sslmode=disable")
}

func mysqlDSN() string {
	return backendtest.Env("CLOAKROOM_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/cloakroom_test?parseTime=true&loc=UTC")
}

func mongoURI() string {
	return backendtest.Env("CLOAKROOM_MONGODB_URI", "mongodb://127.0.0.1:27017/")
}

// openCtx bounds a test's own connecting.
func openCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// appManager is the application's Manager on store: the defaults, under
// prefix, sessions kept an hour so that what a test leaves on a shared
// server goes away.
func appManager(store core.Backend, prefix string) *core.Manager {
	m := core.NewManager(store)
	m.KeyPrefix = prefix
	m.Lifetime = time.Hour
	return m
}

// dropKeys deletes what a test left under prefix on a shared server.
func dropKeys(t *testing.T, store interface {
	core.Backend
	core.Lister
}, prefix string) {
	t.Cleanup(func() {
		ctx := context.Background()
		for key, err := range store.Keys(ctx, prefix) {
			if err != nil {
				return
			}
			_ = store.Delete(ctx, key)
		}
	})
}

func TestRedis(t *testing.T) {
	t.Parallel()
	dsn := redisDSN()
	store, err := redis.Open(openCtx(t), dsn, redis.Options{})
	if err != nil {
		backendtest.Unavailable(t, "Redis (CLOAKROOM_REDIS_ADDR)", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	prefix := "cloakroomcli:" + randomHex(6) + ":"
	dropKeys(t, store, prefix)
	exercise(t, &fixture{
		args:     []string{"-backend", "redis", "-dsn", dsn, "-prefix", prefix},
		m:        appManager(store, prefix),
		listable: true,
	})
}

func TestMemcached(t *testing.T) {
	t.Parallel()
	dsn := memcachedDSN()
	store, err := memcached.Open(openCtx(t), dsn, memcached.Options{})
	if err != nil {
		backendtest.Unavailable(t, "memcached (CLOAKROOM_MEMCACHED_ADDRS)", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	prefix := "cloakroomcli:" + randomHex(6) + ":"
	exercise(t, &fixture{
		args: []string{"-backend", "memcached", "-dsn", dsn, "-prefix", prefix},
		m:    appManager(store, prefix),
	})
}

// sqlFixture is a fixture on a table of its own, dropped at the end.
func sqlFixture(t *testing.T, backend, dsn string, open func(context.Context, string, sqlstore.Options) (*sqlstore.Store, error)) *fixture {
	t.Helper()
	table := "cloakroomcli_" + randomHex(6)
	store, err := open(openCtx(t), dsn, sqlstore.Options{Table: sqlstore.Table{Name: table}, CleanupInterval: -1})
	if err != nil {
		backendtest.Unavailable(t, backend, err)
	}
	t.Cleanup(func() {
		_, _ = store.DB().ExecContext(context.Background(), "DROP TABLE "+table)
		_ = store.Close()
	})
	if err := store.CreateTable(openCtx(t)); err != nil {
		t.Fatal(err)
	}
	return &fixture{
		args:     []string{"-backend", backend, "-dsn", dsn, "-table", table},
		m:        appManager(store, "session:"),
		listable: true,
		purges:   true,
	}
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	exercise(t, sqlFixture(t, "postgres", postgresDSN(), postgres.Open))
}

func TestMySQL(t *testing.T) {
	t.Parallel()
	exercise(t, sqlFixture(t, "mysql", mysqlDSN(), mysql.Open))
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	exercise(t, sqlFixture(t, "sqlite", filepath.Join(t.TempDir(), "sessions.db"), sqlite.Open))
}

func TestFilesystem(t *testing.T) {
	t.Parallel()
	exercise(t, filesystemFixture(t, t.TempDir()))
}

func filesystemFixture(t *testing.T, dir string) *fixture {
	t.Helper()
	store, err := filesystem.New(dir, filesystem.Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &fixture{
		args:     []string{"-backend", "filesystem", "-dsn", dir},
		m:        appManager(store, "session:"),
		listable: true,
		purges:   true,
	}
}

func TestMongoDB(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(mongoURI())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/cloakroomcli_" + randomHex(6)
	dsn := u.String()
	store, err := mongodb.Open(openCtx(t), dsn, mongodb.Options{CleanupInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		backendtest.Unavailable(t, "MongoDB (CLOAKROOM_MONGODB_URI)", err)
	}
	t.Cleanup(func() {
		_ = store.Collection().Database().Drop(context.Background())
		_ = store.Close()
	})
	exercise(t, &fixture{
		args:     []string{"-backend", "mongodb", "-dsn", dsn},
		m:        appManager(store, "session:"),
		listable: true,
		purges:   true,
	})
}

// The django backend reads Django's table with the project's SECRET_KEY,
// here on SQLite, and never prints the key.
func TestDjango(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "django.sqlite3")
	store, err := sqlite.Open(openCtx(t), path, sqlstore.Options{Table: sqlstore.DjangoTable, CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.CreateTable(openCtx(t)); err != nil {
		t.Fatal(err)
	}
	const secret = "django-insecure-test-key-for-the-operator-cli"
	m, err := core.NewDjangoManager(store, secret)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{args: []string{"-backend", "django", "-dsn", path, "-secret", secret}, m: m, listable: true, purges: true, plain: true}
	exercise(t, f)
	if strings.Contains(f.printed.String(), secret) {
		t.Error("the output holds the SECRET_KEY")
	}

	// The key may come from the environment instead; without it, nothing
	// can be read.
	env := func(name string) string {
		if name == envSecret {
			return secret
		}
		return ""
	}
	if r := cliEnv(t, env, "-backend", "django", "-dsn", path, "list"); r.code != 0 || len(lines(r.stdout)) != 1 {
		t.Errorf("list with $%s: exit %d, %q, %q", envSecret, r.code, r.stdout, r.stderr)
	}
	r := cli(t, "-backend", "django", "-dsn", path, "list")
	if r.code != 2 || !strings.Contains(r.stderr, "SECRET_KEY") {
		t.Errorf("list without the SECRET_KEY: exit %d, %q", r.code, r.stderr)
	}
	r = cli(t, "-backend", "django", "-dsn", path, "-secret", "another-key-that-signed-nothing-here", "list")
	if r.code != 1 || strings.Contains(r.stderr, "another-key") {
		t.Errorf("list with a wrong SECRET_KEY: exit %d, %q", r.code, r.stderr)
	}
}
