package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// CreateTable creates the Store's table and its index on the expiry column
// when the table does not exist yet; an existing table (one that Django
// made, say) is left as it is. Call it at start-up or from a migration; it
// is safe to call every time.
func (s *Store) CreateTable(ctx context.Context) error {
	if err := s.createTable(ctx); err != nil {
		return fmt.Errorf("sqlstore: create table %s: %w", s.table.Name, err)
	}
	return nil
}

func (s *Store) createTable(ctx context.Context) error {
	if s.dialect == MySQL {
		// The index is part of CREATE TABLE: one statement, all or nothing.
		_, err := s.db.ExecContext(ctx, s.createTableSQL())
		return err
	}
	// PostgreSQL and SQLite have transactional DDL: the table and its index
	// appear together, and only when the table was absent.
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

func (s *Store) tableExists(ctx context.Context, tx *sql.Tx) (bool, error) {
	var exists bool
	var err error
	if s.dialect == Postgres {
		err = tx.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", s.dialect.quote(s.table.Name)).Scan(&exists)
	} else {
		err = tx.QueryRowContext(ctx, "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", s.table.Name).Scan(&exists)
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
