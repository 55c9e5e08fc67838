// Package sqlstore keeps cloakroom sessions in a relational database through
// database/sql: PostgreSQL, MySQL/MariaDB and SQLite. Use it when the
// application already runs one of these databases and wants sessions that
// survive restarts and are shared by several instances, or when a Go service
// shares its users' logins with a Django application through Django's own
// django_session table (see DjangoTable).
//
// A Store works on any *sql.DB given the Dialect that matches its driver
// (New); Open opens one of the three drivers this module depends on
// (github.com/jackc/pgx/v5/stdlib, github.com/go-sql-driver/mysql and the
// pure-Go modernc.org/sqlite). CreateTable creates the table when it is
// absent.
//
// Databases have no native expiry: a Store keeps each key's absolute expiry
// time (UTC) in a column, never returns an expired row, and deletes expired
// rows on demand (Purge) or periodically (Options.PurgeInterval).
//
// The package is named sqlstore so that it does not shadow database/sql.
package sqlstore
