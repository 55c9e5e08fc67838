package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// CreateTable creates the Store's table and its index on the expiry column
// when the table does not exist yet; an existing table (one that Django
// made, say) is left as it is. Call it at start-up or from a migration; it
// is safe to call every time, and from several processes at once. On
// SQLite, it waits up to 5 seconds, within ctx, for a write lock that
// another connection holds, on top of the busy timeout.
func (s *Store) CreateTable(ctx context.Context) error {
	if err := s.createTable(ctx); err != nil {
		return fmt.Errorf("sqlstore: create table %s: %w", s.table.Name, err)
	}
	return nil
}

func (s *Store) createTable(ctx context.Context) error {
	switch s.dialect {
	case MySQL:
		// The index is part of CREATE TABLE: one statement, all or nothing.
		_, err := s.db.ExecContext(ctx, s.createTableSQL())
		return err
	case SQLite:
		return s.createSQLiteTable(ctx)
	}
	// PostgreSQL has transactional DDL: the table and its index appear
	// together, and only when the table was absent.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	exists, err := s.tableExists(ctx, tx)
	if err != nil || exists {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.createTableSQL()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.createIndexSQL()); err != nil {
		return err
	}
	return tx.Commit()
}

// createSQLiteTable is createTable on SQLite, whose DDL is transactional
// too, in a transaction that takes the write lock before anything else:
// BEGIN IMMEDIATE.
//
// A plain BEGIN (what database/sql's BeginTx sends) is deferred: it takes
// a read lock at the first read (of sqlite_master here) and asks for the
// write lock only at CREATE TABLE. When processes start together on a new
// file, two of them read, then both ask to write, and SQLite cannot let
// the second wait for the lock: in rollback-journal mode the first cannot
// commit while the second holds its read lock, and in WAL mode the
// second's read is out of date once the first commits. So SQLite fails it
// at once with SQLITE_BUSY ("database is locked"), or SQLITE_BUSY_SNAPSHOT
// when the first has committed already, whatever the busy timeout. A
// transaction that begins IMMEDIATE asks for the write lock before it
// reads, and waits for it under the busy timeout like any write: the
// processes take turns, and those that come later find the table. The
// statements go through one dedicated connection, since database/sql
// begins a *sql.Tx with a plain BEGIN and only some drivers can be told
// otherwise, in their DSN, which a Store made by New does not choose.
func (s *Store) createSQLiteTable(ctx context.Context) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// SQLite itself waits for the lock for the connection's busy
	// timeout; retryBusy asks again while it stays taken.
	if err := retryBusy(ctx, func() error {
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		return err
	}); err != nil {
		return err
	}
	defer func() {
		if err == nil {
			return
		}
		// The transaction must not outlive the call on a pooled
		// connection: roll it back even when ctx has ended, and drop the
		// connection when even that fails.
		if _, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	exists, err := s.tableExists(ctx, conn)
	if err != nil {
		return err
	}
	if !exists {
		if _, err := conn.ExecContext(ctx, s.createTableSQL()); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, s.createIndexSQL()); err != nil {
			return err
		}
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// tableExists reports whether the Store's table exists, as seen by q, a
// transaction or a connection within one.
func (s *Store) tableExists(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (bool, error) {
	var exists bool
	var err error
	if s.dialect == Postgres {
		err = q.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", s.dialect.quote(s.table.Name)).Scan(&exists)
	} else {
		err = q.QueryRowContext(ctx, "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", s.table.Name).Scan(&exists)
	}
	return exists, err
}

// columnTypes returns the SQL types of the key, data and expiry columns.
func (s *Store) columnTypes() (key, data, expiry string) {
	t := s.table
	key = fmt.Sprintf("varchar(%d)", t.KeyLength)
	switch s.dialect {
	case Postgres:
		data, expiry = "bytea", "timestamptz"
		if t.TextData {
			data = "text"
		}
	case MySQL:
		// Keys compare byte for byte: session ids are case-sensitive.
		key += " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
		data, expiry = "longblob", "datetime(6)"
		if t.TextData {
			data = "longtext CHARACTER SET utf8mb4"
		}
	default:
		data, expiry = "blob", "datetime"
		if t.TextData {
			data = "text"
		}
	}
	if t.ExpiryRequired {
		expiry += " NOT NULL"
	} else {
		expiry += " NULL"
	}
	return key, data, expiry
}

func (s *Store) createTableSQL() string {
	d, t := s.dialect, s.table
	kt, dt, et := s.columnTypes()
	cols := fmt.Sprintf("%s %s NOT NULL PRIMARY KEY, %s %s NOT NULL, %s %s",
		d.quote(t.KeyColumn), kt, d.quote(t.DataColumn), dt, d.quote(t.ExpiryColumn), et)
	if d == MySQL {
		cols += fmt.Sprintf(", INDEX %s (%s)", d.quote(s.indexName()), d.quote(t.ExpiryColumn))
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", d.quote(t.Name), cols)
}

func (s *Store) createIndexSQL() string {
	d, t := s.dialect, s.table
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)",
		d.quote(s.indexName()), d.quote(t.Name), d.quote(t.ExpiryColumn))
}

// indexName names the expiry index, within every dialect's length limit.
func (s *Store) indexName() string {
	n := s.table.Name + "_" + s.table.ExpiryColumn + "_idx"
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}
