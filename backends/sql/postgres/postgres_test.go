package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, sqltest.PostgresDSN(t), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Dialect() != sqlstore.Postgres {
		t.Errorf("Dialect = %v", s.Dialect())
	}
	if err := s.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	key := "cloakroomtest:open:" + t.Name()
	if err := s.SetIf(ctx, key, nil, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIf(ctx, key, core.Version("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Ping(); err == nil {
		t.Error("the pool is still open after Close")
	}
}

// TestOpenUnreachable: Open pings, within ctx, and its error names neither
// the password nor a sentinel of core.
func TestOpenUnreachable(t *testing.T) {
	const password = "s3cret-pw"
	dsn := sqltest.PostgresAt(t, backendtest.ClosedAddr(t), password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	s, err := postgres.Open(ctx, dsn, sqlstore.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Open took %v, past its 1s deadline", took)
	}
	if strings.Contains(err.Error(), password) || errors.Is(err, core.ErrNotFound) {
		t.Errorf("Open: %v", err)
	}
	t.Logf("Open: %v", err)
}

func TestOpenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s, err := postgres.Open(ctx, sqltest.PostgresDSN(t), sqlstore.Options{}); !errors.Is(err, context.Canceled) {
		if err == nil {
			_ = s.Close()
		}
		t.Fatalf("Open with a canceled context: err = %v, want context.Canceled", err)
	}
}

func TestOpenInvalidDSN(t *testing.T) {
	const password = "s3cret-pw"
	for _, dsn := range []string{
		"postgres://app:" + password + "@127.0.0.1:notaport/app",
		"host=127.0.0.1 password=" + password + " sslmode=bogus",
	} {
		s, err := postgres.Open(context.Background(), dsn, sqlstore.Options{})
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("Open's error shows the password: %v", err)
		}
	}
}

// TestStalledServer: a Store made by Open with default options fails
// every call within 2 seconds while a proxy in front of the server stops
// forwarding, and works again once it forwards (sqltest.CheckStalled).
func TestStalledServer(t *testing.T) {
	_ = sqltest.PostgresDSN(t) // skips when the server is unreachable
	sqltest.CheckStalled(t, sqltest.PostgresAddr(t), sqltest.PostgresVia, openDefault)
}

// TestOpenStalled: Open with a context without deadline gives up on a
// server that never answers its handshake after the default connect
// timeout. The pool's own connection attempts, which database/sql makes
// without any deadline, are bounded the same way.
func TestOpenStalled(t *testing.T) {
	_ = sqltest.PostgresDSN(t) // skips when the server is unreachable
	sqltest.CheckOpenStalled(t, sqltest.PostgresAddr(t), sqltest.PostgresVia, openDefault, sqlstore.DefaultConnectTimeout)
}

// openDefault is Open with default options.
func openDefault(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	return postgres.Open(ctx, dsn, sqlstore.Options{})
}
