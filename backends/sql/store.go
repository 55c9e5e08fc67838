package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/background"
)

// Options configure a Store. The zero value gives cloakroom's own table and
// no background purge.
type Options struct {
	// Table is where rows live; the zero Table means DefaultTable, and
	// empty names take DefaultTable's.
	Table Table
	// PurgeInterval, when positive, makes the Store delete expired rows in
	// the background that often, until Close. Expired rows are never
	// returned either way; purging only reclaims their space.
	PurgeInterval time.Duration
	// Logger receives background purge failures; nil means slog.Default().
	Logger *slog.Logger
}

// Store is a core.Backend on a SQL table. It also implements core.Toucher
// and core.Lister. It is safe for concurrent use; call Close when done.
type Store struct {
	db      *sql.DB
	ownDB   bool // opened by Open, closed by Close
	dialect Dialect
	table   Table
	stmts   *statements
	logger  *slog.Logger
	now     func() time.Time
	// pageSize is how many keys Keys reads per query.
	pageSize int

	closeOnce sync.Once
	purger    *background.Loop // nil without a PurgeInterval
}

var (
	_ core.Backend = (*Store)(nil)
	_ core.Toucher = (*Store)(nil)
	_ core.Lister  = (*Store)(nil)
)

// New returns a Store on db, which must be opened with a driver of dialect
// d. It does not contact the database; call CreateTable once if the table may
// be absent. It fails only on an invalid dialect or table identifier.
// Closing the Store does not close db.
func New(db *sql.DB, d Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: invalid dialect %v", d)
	}
	t, err := opts.Table.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		db:       db,
		dialect:  d,
		table:    t,
		stmts:    buildStatements(d, t),
		logger:   opts.Logger,
		now:      time.Now,
		pageSize: keysPage,
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if opts.PurgeInterval > 0 {
		s.purger = background.Every(opts.PurgeInterval, s.purgeOnce(opts.PurgeInterval))
	}
	return s, nil
}

// DB returns the database the Store works on, for the application's own
// queries and pool settings.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the Store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Table returns the table layout the Store uses, with defaults filled in.
func (s *Store) Table() Table { return s.table }

// Get returns the value under key, or an error wrapping core.ErrNotFound
// when the key is absent or expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	st, err := s.stmts.get.get(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get %q: %w", key, err)
	}
	var value []byte
	err = st.QueryRowContext(ctx, key, s.nowArg()).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: get %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get %q: %w", key, err)
	}
	if s.table.TextData {
		if value, err = decodeText(value); err != nil {
			return nil, fmt.Errorf("sqlstore: get %q: %w", key, err)
		}
	}
	if value == nil {
		value = []byte{}
	}
	return value, nil
}

// Set stores value under key with the given time to live (none when ttl <= 0),
// replacing any previous row.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	st, err := s.stmts.set.get(ctx, s.db)
	if err != nil {
		return fmt.Errorf("sqlstore: set %q: %w", key, err)
	}
	var data any = value
	if s.table.TextData {
		data = encodeText(value)
	} else if value == nil {
		data = []byte{} // the data column is NOT NULL
	}
	if _, err := st.ExecContext(ctx, key, data, s.expiryArg(ttl)); err != nil {
		return fmt.Errorf("sqlstore: set %q: %w", key, err)
	}
	return nil
}

// Delete removes key; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	st, err := s.stmts.del.get(ctx, s.db)
	if err != nil {
		return fmt.Errorf("sqlstore: delete %q: %w", key, err)
	}
	if _, err := st.ExecContext(ctx, key); err != nil {
		return fmt.Errorf("sqlstore: delete %q: %w", key, err)
	}
	return nil
}

// Touch sets key's remaining lifetime to ttl (none when ttl <= 0) without
// rewriting its value. It returns an error wrapping core.ErrNotFound when
// the key is absent or expired.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	st, err := s.stmts.touch.get(ctx, s.db)
	if err != nil {
		return fmt.Errorf("sqlstore: touch %q: %w", key, err)
	}
	res, err := st.ExecContext(ctx, s.expiryArg(ttl), key, s.nowArg())
	if err != nil {
		return fmt.Errorf("sqlstore: touch %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: touch %q: %w", key, err)
	}
	if n > 0 {
		return nil
	}
	// MySQL counts changed rows, not matched ones, unless the connection
	// sets clientFoundRows: an unchanged expiry reports 0. Ask again.
	if s.dialect == MySQL {
		if ok, err := s.exists(ctx, key); err != nil || ok {
			if err != nil {
				return fmt.Errorf("sqlstore: touch %q: %w", key, err)
			}
			return nil
		}
	}
	return fmt.Errorf("sqlstore: touch %q: %w", key, core.ErrNotFound)
}

// exists reports whether key has a live row.
func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	st, err := s.stmts.exists.get(ctx, s.db)
	if err != nil {
		return false, err
	}
	var one int
	err = st.QueryRowContext(ctx, key, s.nowArg()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Close stops the background purge, releases the prepared statements and,
// when the Store was made by Open, closes the database. It is safe to call
// more than once.
func (s *Store) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		s.purger.Stop()
		for _, l := range s.stmts.all() {
			errs = append(errs, l.close())
		}
		if s.ownDB {
			errs = append(errs, s.db.Close())
		}
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// nowArg is the current time as bound in "is it live" conditions.
func (s *Store) nowArg() any { return s.dialect.timeArg(s.now()) }

// expiryArg is the expiry column's value for a key set now with ttl.
func (s *Store) expiryArg(ttl time.Duration) any {
	switch {
	case ttl > 0:
		return s.dialect.timeArg(s.now().Add(ttl))
	case s.table.ExpiryRequired:
		return s.dialect.timeArg(farFuture)
	default:
		return nil
	}
}
