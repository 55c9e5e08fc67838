// Package sqlstore keeps cloakroom sessions in a relational database through
// database/sql: PostgreSQL, MySQL/MariaDB and SQLite. Use it when the
// application already runs one of these databases and wants sessions that
// survive restarts and are shared by several instances, or when a Go service
// shares its users' logins with a Django application through Django's own
// django_session table (see DjangoTable).
//
// This package imports no SQL driver. Open a Store from a DSN with the
// sub-package of your database, which links only its own driver:
//
//   - postgres.Open (github.com/jackc/pgx/v5),
//   - mysql.Open (github.com/go-sql-driver/mysql; also takes mysql:// URLs),
//   - sqlite.Open (the pure-Go modernc.org/sqlite).
//
// New wraps a *sql.DB that you opened and own, given the Dialect that
// matches its driver; OpenDB is New for a *sql.DB the Store should own.
// CreateTable creates the table when it is absent.
//
// A Store implements core.Conditional: GetVersion, SetIf and DeleteIf
// compare the stored data itself with the value read, so concurrent
// requests lose no update and a blind write by a peer (Django) is seen.
// Each is one statement when it succeeds. On PostgreSQL (11 or newer) and
// MySQL the statement carries a SHA-256 digest of the value read, which the
// server compares with its own digest of the data column, so a write sends
// its value once.
//
// Databases have no native expiry: a Store keeps each key's absolute expiry
// time (UTC) in a column, never returns an expired row, and deletes expired
// rows on demand (Purge) and periodically (Options.CleanupInterval).
//
// A database that stops answering fails each call within
// Options.Timeout (1.5 s by default) rather than holding the request: the
// Store bounds every call itself, and the sub-packages' Open also caps the
// pool (LimitPool) and bounds connecting. See the README's "Timeouts".
//
// The package is named sqlstore so that it does not shadow database/sql.
package sqlstore
