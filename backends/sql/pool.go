package sqlstore

import (
	"database/sql"
	"time"
)

// The pool settings that each sub-package's Open gives the *sql.DB it
// makes, through LimitPool. A *sql.DB given to New or OpenDB keeps its own.
const (
	// DefaultMaxOpenConns caps the pool's connections. Without a cap, a
	// flood of requests, or a database that stalls while requests keep
	// coming, opens connection after connection until the server refuses
	// them; with it, requests wait for a connection, each within its
	// Options.Timeout. Change it with Store.DB().SetMaxOpenConns.
	DefaultMaxOpenConns = 16
	// DefaultConnMaxIdleTime closes a connection that has been idle that
	// long, so that the pool shrinks back after a burst and drops
	// connections that a firewall may have silently cut.
	DefaultConnMaxIdleTime = 5 * time.Minute
	// DefaultConnectTimeout bounds connecting (dialling, TLS,
	// authentication) when the DSN sets no timeout of its own.
	// database/sql opens some connections in the background, for callers
	// waiting for one, without any deadline: a stalled server would hold
	// those attempts, and their places in the pool, for good.
	DefaultConnectTimeout = 5 * time.Second
)

// LimitPool gives db the pool settings of the sub-packages' Open: at most
// DefaultMaxOpenConns connections, as many kept idle (so that a busy
// application reuses its connections rather than reconnecting), each
// closed after DefaultConnMaxIdleTime unused. Call it on a *sql.DB you
// open yourself to get the same bounds.
func LimitPool(db *sql.DB) {
	db.SetMaxOpenConns(DefaultMaxOpenConns)
	db.SetMaxIdleConns(DefaultMaxOpenConns)
	db.SetConnMaxIdleTime(DefaultConnMaxIdleTime)
}
