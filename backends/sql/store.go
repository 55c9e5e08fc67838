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

// DefaultCleanupInterval is how often a Store deletes expired rows when
// Options.CleanupInterval is zero.
const DefaultCleanupInterval = 10 * time.Minute

// Options configure a Store. The zero value gives cloakroom's own table and
// a clean-up of expired rows every DefaultCleanupInterval.
type Options struct {
	// Table is where rows live; the zero Table means DefaultTable, and
	// empty names take DefaultTable's.
	Table Table
	// CleanupInterval is how often the Store deletes expired rows in the
	// background, until Close: zero means DefaultCleanupInterval, a
	// negative value disables the clean-up (call Purge from a job of your
	// own instead, or let Django's clearsessions do it). Expired rows are
	// never returned either way; cleaning up only reclaims their space.
	CleanupInterval time.Duration
	// Logger receives background clean-up failures; nil means
	// slog.Default().
	Logger *slog.Logger
}

// cleanupInterval returns the effective interval; zero or less means none.
func (o Options) cleanupInterval() time.Duration {
	if o.CleanupInterval == 0 {
		return DefaultCleanupInterval
	}
	return max(o.CleanupInterval, 0)
}

// Store is a core.Backend on a SQL table. It also implements core.Toucher,
// core.Lister and core.Conditional. It is safe for concurrent use; call
// Close when done.
type Store struct {
	db      *sql.DB
	ownDB   bool // given to OpenDB, closed by Close
	dialect Dialect
	table   Table
	stmts   *statements
	logger  *slog.Logger
	now     func() time.Time
	// pageSize is how many keys Keys reads per query.
	pageSize int
	// observe, when set (by tests), sees every statement the Store runs.
	observe func(query string)

	cleanupInterval time.Duration // zero when disabled
	closeOnce       sync.Once
	cleaner         *background.Loop // nil when disabled
}

var (
	_ core.Backend     = (*Store)(nil)
	_ core.Toucher     = (*Store)(nil)
	_ core.Lister      = (*Store)(nil)
	_ core.Conditional = (*Store)(nil)
)

// New returns a Store on db, which must be opened with a driver of dialect
// d. It does not contact the database; call CreateTable once if the table
// may be absent. It fails only on a nil db, an invalid dialect or an invalid
// table identifier. Closing the Store does not close db.
//
// The sub-packages postgres, mysql and sqlite open a database from a DSN
// with the driver this module brings for each; New is for a *sql.DB you
// opened and configured yourself, with any driver of the same database.
func New(db *sql.DB, d Dialect, opts Options) (*Store, error) {
	s, err := newStore(db, d, opts)
	if err != nil {
		return nil, err
	}
	s.startCleanup()
	return s, nil
}

// OpenDB returns a Store that owns db: it checks, with one ping bounded by
// ctx, that the database answers, and Close closes db. When the ping or the
// options fail, OpenDB closes db and returns the error. The sub-packages'
// Open functions are built on it; call it yourself to give a Store a
// *sql.DB made with another driver (sql.Open, sql.OpenDB) that nothing else
// uses.
func OpenDB(ctx context.Context, db *sql.DB, d Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	s, err := newStore(db, d, opts)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlstore: connect to %s: %w", d, err)
	}
	s.ownDB = true
	s.startCleanup()
	return s, nil
}

// newStore checks the arguments and builds a Store without starting its
// background work.
func newStore(db *sql.DB, d Dialect, opts Options) (*Store, error) {
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
		db:              db,
		dialect:         d,
		table:           t,
		stmts:           buildStatements(d, t),
		logger:          opts.Logger,
		now:             time.Now,
		pageSize:        keysPage,
		cleanupInterval: opts.cleanupInterval(),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	return s, nil
}

func (s *Store) startCleanup() {
	if s.cleanupInterval > 0 {
		s.cleaner = background.Every(s.cleanupInterval, s.cleanupOnce)
	}
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
	value, _, err := s.read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get %q: %w", key, err)
	}
	return value, nil
}

// read returns key's live value, decoded, and the data column's bytes as
// stored (the same slice when the column holds the value as it is). It
// returns core.ErrNotFound when there is no live row.
func (s *Store) read(ctx context.Context, key string) (value, stored []byte, err error) {
	err = s.queryRow(ctx, &s.stmts.get, []any{key, s.nowArg()}, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, core.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	if stored == nil {
		stored = []byte{}
	}
	value = stored
	if s.table.TextData {
		if value, err = decodeText(stored); err != nil {
			return nil, nil, err
		}
	}
	return value, stored, nil
}

// Set stores value under key with the given time to live (none when ttl <= 0),
// replacing any previous row.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	now := s.now()
	if _, err := s.exec(ctx, &s.stmts.set, key, s.dataArg(value), s.expiryArg(now, ttl)); err != nil {
		return fmt.Errorf("sqlstore: set %q: %w", key, err)
	}
	return nil
}

// Delete removes key; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, &s.stmts.del, key); err != nil {
		return fmt.Errorf("sqlstore: delete %q: %w", key, err)
	}
	return nil
}

// Touch sets key's remaining lifetime to ttl (none when ttl <= 0) without
// rewriting its value. It returns an error wrapping core.ErrNotFound when
// the key is absent or expired.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	now := s.now()
	n, err := s.exec(ctx, &s.stmts.touch, s.expiryArg(now, ttl), key, s.dialect.timeArg(now))
	if err != nil {
		return fmt.Errorf("sqlstore: touch %q: %w", key, err)
	}
	if n > 0 {
		return nil
	}
	// MySQL counts changed rows, not matched ones, unless the connection
	// sets clientFoundRows: an unchanged expiry reports 0. Ask again.
	if s.dialect == MySQL {
		ok, err := s.exists(ctx, key)
		if err != nil {
			return fmt.Errorf("sqlstore: touch %q: %w", key, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("sqlstore: touch %q: %w", key, core.ErrNotFound)
}

// exists reports whether key has a live row.
func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	var one int
	err := s.queryRow(ctx, &s.stmts.exists, []any{key, s.nowArg()}, &one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Close stops the background clean-up, releases the prepared statements
// and, when the Store was made by OpenDB or a sub-package's Open, closes the
// database. It is safe to call more than once.
func (s *Store) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		s.cleaner.Stop()
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

// exec runs one prepared statement and returns how many rows it affected.
func (s *Store) exec(ctx context.Context, l *lazyStmt, args ...any) (int64, error) {
	st, err := l.get(ctx, s.db)
	if err != nil {
		return 0, err
	}
	s.observed(l)
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// queryRow runs one prepared single-row query and scans its row into dest;
// it returns sql.ErrNoRows when there is none.
func (s *Store) queryRow(ctx context.Context, l *lazyStmt, args []any, dest ...any) error {
	st, err := l.get(ctx, s.db)
	if err != nil {
		return err
	}
	s.observed(l)
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

func (s *Store) observed(l *lazyStmt) {
	if s.observe != nil {
		s.observe(l.query)
	}
}

// nowArg is the current time as bound in "is it live" conditions.
func (s *Store) nowArg() any { return s.dialect.timeArg(s.now()) }

// expiryArg is the expiry column's value for a key set at now with ttl.
func (s *Store) expiryArg(now time.Time, ttl time.Duration) any {
	switch {
	case ttl > 0:
		return s.dialect.timeArg(now.Add(ttl))
	case s.table.ExpiryRequired:
		return s.dialect.timeArg(farFuture)
	default:
		return nil
	}
}

// dataArg is the data column's value for value.
func (s *Store) dataArg(value []byte) any {
	if s.table.TextData {
		return encodeText(value)
	}
	if value == nil {
		return []byte{} // the data column is NOT NULL
	}
	return value
}

// storedArg binds bytes read from the data column (a version) back for
// comparison with it, as the same type the column holds: text columns
// compare with text, binary ones with bytes.
func (s *Store) storedArg(stored []byte) any {
	if s.table.TextData {
		return string(stored)
	}
	if stored == nil {
		return []byte{}
	}
	return stored
}
