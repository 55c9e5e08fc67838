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
	"github.com/cloakroom/cloakroom/internal/timeout"
)

// DefaultCleanupInterval is how often a Store deletes expired rows when
// Options.CleanupInterval is zero.
const DefaultCleanupInterval = 10 * time.Minute

// DefaultTimeout bounds each call of a Store when Options.Timeout is zero:
// short enough that a request whose database stops answering gets its 503
// within 2 seconds, long enough for any session statement on a live
// database.
const DefaultTimeout = 1500 * time.Millisecond

// Options configure a Store. The zero value gives cloakroom's own table, a
// clean-up of expired rows every DefaultCleanupInterval and calls bounded
// by DefaultTimeout.
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
	// Timeout bounds each call of the Store (Get, GetVersion, Set, SetIf,
	// Delete, DeleteIf, Touch, ExpiresAt, and each page of Keys): the wait
	// for a pooled connection, connecting, and every statement the call
	// runs, so that a database that stops answering fails the call instead
	// of holding it. It applies only when the caller's context has no
	// earlier deadline. Zero means DefaultTimeout; a negative value
	// leaves the caller's context as the only bound. It changes no
	// setting of the *sql.DB, so it applies to a Store made by New as
	// well. Purge and CreateTable, which may rightly take longer, are
	// bounded by their context only.
	Timeout time.Duration
}

// timeout returns the effective bound of each call; zero means none.
func (o Options) timeout() time.Duration {
	if o.Timeout == 0 {
		return DefaultTimeout
	}
	return max(o.Timeout, 0)
}

// cleanupInterval returns the effective interval; zero or less means none.
func (o Options) cleanupInterval() time.Duration {
	if o.CleanupInterval == 0 {
		return DefaultCleanupInterval
	}
	return max(o.CleanupInterval, 0)
}

// Store is a core.Backend on a SQL table. It also implements core.Toucher,
// core.Lister, core.Conditional and core.Expirer. It is safe for
// concurrent use; call Close when done.
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
	// timeout bounds each call; zero when disabled.
	timeout time.Duration
	// writeTurn, on SQLite only, lets one write statement of the Store run
	// at a time (see exec).
	writeTurn chan struct{}
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
	_ core.Expirer     = (*Store)(nil)
)

// New returns a Store on db, which must be opened with a driver of dialect
// d. It does not contact the database; call CreateTable once if the table
// may be absent. It fails only on a nil db, an invalid dialect or an invalid
// table identifier. Closing the Store does not close db.
//
// The sub-packages postgres, mysql and sqlite open a database from a DSN
// with the driver this module brings for each; New is for a *sql.DB you
// opened and configured yourself, with any driver of the same database.
// The Store changes none of db's settings: cap its connections yourself
// (db.SetMaxOpenConns, or LimitPool for the sub-packages' settings) and
// bound the driver's connecting. Options.Timeout bounds each call of the
// Store all the same, unless it is negative.
func New(db *sql.DB, d Dialect, opts Options) (*Store, error) {
	s, err := newStore(db, d, opts)
	if err != nil {
		return nil, err
	}
	s.startCleanup()
	return s, nil
}

// OpenDB returns a Store that owns db: it checks, with one ping bounded by
// ctx, that the database answers (on SQLite, pinging again for up to 5
// seconds while another process holds the file locked as it sets it up),
// and Close closes db. When the ping or the options fail, OpenDB closes db
// and returns the error. The sub-packages' Open functions are built on it;
// call it yourself to give a Store a *sql.DB made with another driver
// (sql.Open, sql.OpenDB) that nothing else uses. Like New, it keeps db's
// pool settings as they are.
func OpenDB(ctx context.Context, db *sql.DB, d Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	s, err := newStore(db, d, opts)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.ping(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlstore: connect to %s: %w", d, err)
	}
	s.ownDB = true
	s.startCleanup()
	return s, nil
}

// ping checks that the database answers. On SQLite, connecting runs the
// DSN's pragmas, and the one that turns a new file into WAL mode fails at
// once with SQLITE_BUSY when another process does the same at the same
// moment (see retryBusy): the ping is tried again then, and finds the file
// in WAL mode.
func (s *Store) ping(ctx context.Context) error {
	if s.dialect != SQLite {
		return s.db.PingContext(ctx)
	}
	return retryBusy(ctx, func() error { return s.db.PingContext(ctx) })
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
		timeout:         opts.timeout(),
		cleanupInterval: opts.cleanupInterval(),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if d == SQLite {
		s.writeTurn = make(chan struct{}, 1)
	}
	return s, nil
}

func (s *Store) startCleanup() {
	if s.cleanupInterval > 0 {
		s.cleaner = background.Every(s.cleanupInterval, s.cleanupOnce)
	}
}

// bound limits ctx to the Store's timeout for one call. The timer costs a
// few allocations per call (about 400 bytes in BenchmarkGet and
// BenchmarkSet), nothing next to a round trip to the database.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return timeout.Bound(ctx, s.timeout)
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := s.now()
	if _, err := s.exec(ctx, &s.stmts.set, key, s.dataArg(value), s.expiryArg(now, ttl)); err != nil {
		return fmt.Errorf("sqlstore: set %q: %w", key, err)
	}
	return nil
}

// Delete removes key; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.exec(ctx, &s.stmts.del, key); err != nil {
		return fmt.Errorf("sqlstore: delete %q: %w", key, err)
	}
	return nil
}

// Touch sets key's remaining lifetime to ttl (none when ttl <= 0) without
// rewriting its value. It returns an error wrapping core.ErrNotFound when
// the key is absent or expired.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
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

// ExpiresAt returns when key's live row expires, read from the expiry
// column with one query that does not read the value. It returns the zero
// time for a row without expiry (NULL, or 9999-12-31, which stands for
// none in a table whose expiry is NOT NULL, as Django's is) and an error
// wrapping core.ErrNotFound when the key is absent or expired.
func (s *Store) ExpiresAt(ctx context.Context, key string) (time.Time, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var stored any
	err := s.queryRow(ctx, &s.stmts.expiry, []any{key, s.nowArg()}, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		err = core.ErrNotFound
	}
	var t time.Time
	if err == nil {
		t, err = expiryOf(stored)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: expiresat %q: %w", key, err)
	}
	return t, nil
}

// expiryOf converts what a driver read from the expiry column (see
// timeText) into an expiry: the zero time for none.
func expiryOf(stored any) (time.Time, error) {
	var t time.Time
	switch v := stored.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		t = v
	case []byte:
		return expiryOf(string(v))
	case string:
		// Fractional seconds, when present, are read as well.
		var err error
		if t, err = time.Parse("2006-01-02 15:04:05", v); err != nil {
			return time.Time{}, fmt.Errorf("unreadable expiry %q: %w", v, err)
		}
	default:
		return time.Time{}, fmt.Errorf("unreadable expiry of type %T", stored)
	}
	if !t.Before(farFuture) {
		return time.Time{}, nil
	}
	return t.UTC(), nil
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

// exec runs one prepared statement that writes, and returns how many rows
// it affected.
//
// On SQLite, the Store's writes take turns here. SQLite lets one writer
// at a time hold the database anyway, and a writer that finds it locked
// waits in SQLite's busy handler, which does not end with the context and
// is not fair: under contention one writer can lose again and again until
// its busy timeout, which must stay short for the Store's calls to end
// within their deadline. Waiting here is fair enough and ends with ctx;
// the busy timeout is left to cover other processes' writes.
func (s *Store) exec(ctx context.Context, l *lazyStmt, args ...any) (int64, error) {
	if s.writeTurn != nil {
		select {
		case s.writeTurn <- struct{}{}:
			defer func() { <-s.writeTurn }()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
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
