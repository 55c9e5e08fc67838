package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/internal/sqltest"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// BenchmarkSessionWrites: 50 goroutines incrementing one session, and 50
// goroutines on 50 sessions. roundtrips/op counts the statements pgx sent.
func BenchmarkSessionWrites(b *testing.B) {
	cfg, err := pgx.ParseConfig(sqltest.PostgresDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	var statements statementCounter
	cfg.Tracer = &statements
	db := stdlib.OpenDB(*cfg)
	sqlstore.LimitPool(db)
	ctx := context.Background()
	store, err := sqlstore.OpenDB(ctx, db, sqlstore.Postgres, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	if err := store.CreateTable(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("OneSession", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, store, 1, statements.Load) })
	b.Run("50Sessions", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, store, 50, statements.Load) })
}

// statementCounter is a pgx tracer that counts the statements sent.
type statementCounter struct{ atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
