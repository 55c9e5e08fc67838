// Package postgres opens a cloakroom SQL Store (package sqlstore) on
// PostgreSQL through the pgx driver (github.com/jackc/pgx/v5). Importing it
// links pgx and no other SQL driver.
package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
)

// Open connects to PostgreSQL and returns a Store that owns the connection
// pool: Close closes it. dsn is a URL (postgres://user:pass@host:5432/db?sslmode=disable)
// or a key=value string (host=… dbname=…), with pgx's settings and the
// PG* environment variables for what it leaves out. Open checks with one
// ping, bounded by ctx, that the server answers; it returns a wrapped error
// (without the password) if not. Call CreateTable once if the table may be
// absent.
//
// So that a database that stops answering fails requests rather than
// holding them, the pool is limited by sqlstore.LimitPool, connecting is
// bounded by sqlstore.DefaultConnectTimeout unless the DSN sets
// connect_timeout, and each call of the Store by opts.Timeout. When a
// statement's deadline passes, pgx closes its connection at once (its
// default context handling sets a past deadline on the socket) and sends
// PostgreSQL a cancel request in the background.
func Open(ctx context.Context, dsn string, opts sqlstore.Options) (*sqlstore.Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors show the DSN with its password redacted.
		return nil, fmt.Errorf("sqlstore: postgres: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = sqlstore.DefaultConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	sqlstore.LimitPool(db)
	return sqlstore.OpenDB(ctx, db, sqlstore.Postgres, opts)
}
