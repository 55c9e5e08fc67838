package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
)

// TestConnectionsKilled runs read and increment requests through a Manager
// over a Store made by Open while an admin connection kills every
// connection of the Store's pool with pg_terminate_backend, three times
// (sqltest.CheckKilledConnections): the pool must recover by itself and no
// acknowledged increment may be lost. The Store's connections are told
// apart by a unique application_name in its DSN, so that only they are
// killed on the shared server. It prints errors, outage and losses.
func TestConnectionsKilled(t *testing.T) {
	dsn := sqltest.PostgresDSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	app := "cloakroom-killed-" + hex.EncodeToString(b)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	s, err := postgres.Open(ctx, u.String(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}

	k := sqltest.CheckKilledConnections(t, s, func(ctx context.Context) (int, error) {
		var n int
		err := admin.QueryRowContext(ctx, `SELECT count(*) FROM (
			SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()) AS killed`,
			app).Scan(&n)
		return n, err
	})
	t.Logf("PostgreSQL, pool connections killed 3 times under load: %s", k)
	for _, e := range k.Samples {
		t.Logf("a failed request: %s", e)
	}
}
