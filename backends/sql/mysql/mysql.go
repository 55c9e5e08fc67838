// Package mysql opens a cloakroom SQL Store (package sqlstore) on MySQL or
// MariaDB through github.com/go-sql-driver/mysql. Importing it links that
// driver and no other SQL driver.
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
)

// Open connects to MySQL or MariaDB and returns a Store that owns the
// connection pool: Close closes it. dsn is either the driver's own form,
// user:pass@tcp(host:3306)/db?params, or a URL,
// mysql://user:pass@host:3306/db?params (mariadb:// too; the port defaults
// to 3306), with the driver's parameters in both. The Store needs none of
// them: it passes times as UTC text and compares stored data as bytes. Open
// turns clientFoundRows on (the Store works without it, as on a *sql.DB
// given to New, at the cost of a second query when a conditional write
// leaves a row unchanged), so the pool's UPDATEs report the rows they
// matched, not only those they changed.
//
// Open checks with one ping, bounded by ctx, that the server answers; it
// returns a wrapped error (without the password) if not. Call CreateTable
// once if the table may be absent.
//
// So that a database that stops answering fails requests rather than
// holding them, the pool is limited by sqlstore.LimitPool, connecting
// (handshake included) is bounded by the DSN's timeout parameter or else
// sqlstore.DefaultConnectTimeout, and each call of the Store by
// opts.Timeout. When a statement's deadline passes, the driver closes its
// connection at once.
func Open(ctx context.Context, dsn string, opts sqlstore.Options) (*sqlstore.Store, error) {
	cfg, err := parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mysql: %w", err)
	}
	cfg.ClientFoundRows = true
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mysql: %w", err)
	}
	limit := cfg.Timeout
	if limit <= 0 {
		limit = sqlstore.DefaultConnectTimeout
	}
	db := sql.OpenDB(boundedConnector{Connector: connector, timeout: limit})
	sqlstore.LimitPool(db)
	return sqlstore.OpenDB(ctx, db, sqlstore.MySQL, opts)
}

// boundedConnector bounds the whole of connecting, handshake and
// authentication included. The driver's timeout parameter bounds only the
// dial, and database/sql opens some connections with no deadline at all
// (for callers waiting for one): against a stalled server they would wait
// for good, each holding a place in the pool.
type boundedConnector struct {
	driver.Connector
	timeout time.Duration
}

// Connect connects within the connector's timeout, or ctx's deadline if
// sooner.
func (c boundedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.Connector.Connect(ctx)
}

// parse reads a DSN in the driver's form or a mysql:// or mariadb:// URL.
func parse(dsn string) (*gomysql.Config, error) {
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "mysql://") || strings.HasPrefix(lower, "mariadb://") {
		return parseURL(dsn)
	}
	return gomysql.ParseDSN(dsn)
}

// parseURL converts mysql://user:pass@host:port/db?params to the driver's
// configuration. Its errors never quote the URL, which holds the password.
func parseURL(raw string) (*gomysql.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // without the URL itself
		}
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	// The driver reads its parameters from a DSN only: parse one made of
	// the URL's address, database and query, then add the credentials.
	var dsn strings.Builder
	if host := u.Hostname(); host != "" {
		port := u.Port()
		if port == "" {
			port = "3306"
		}
		dsn.WriteString("tcp(" + net.JoinHostPort(host, port) + ")")
	}
	dsn.WriteString("/" + strings.TrimPrefix(u.EscapedPath(), "/"))
	if u.RawQuery != "" {
		dsn.WriteString("?" + u.RawQuery)
	}
	cfg, err := gomysql.ParseDSN(dsn.String())
	if err != nil {
		return nil, err
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	return cfg, nil
}
