// Package filesystem keeps each session in a file of its own in one folder:
// sessions survive restarts with no server to run, and several processes on
// one machine can share the folder.
//
// A file holds the value alone; its modification time is its expiry, so
// extending a session (Touch) changes metadata and never rewrites data that
// another process may have just replaced. Writes go to a temporary file
// that is renamed into place, so a reader sees a whole old value or a whole
// new one.
//
// # Conditional writes
//
// Store implements core.Conditional, so concurrent requests on one session
// lose no update and a logged-out session is never written back. The
// version of a value is the value itself. SetIf and DeleteIf hold a lock
// on the key while they read the current file, compare it with the version
// and rename the new file into place (or remove the old one).
//
// On Linux, macOS and the BSDs the locks are flock(2) locks on a fixed set
// of lock files in the folder (.lock-00 to .lock-1f, chosen by a hash of
// the key), which Keys never returns and Purge never removes. They exclude
// every process that shares the folder, and every goroutine of one process,
// as long as they use this package. The folder must be on a local file
// system: flock is not reliable over every network file system. On other
// platforms (Windows, Solaris, illumos, AIX) the locks are mutexes of the
// Store: they exclude the goroutines using one Store only, so there a
// process should open one Store per folder and no other process should make
// conditional writes to it.
//
// Plain writers (Set, Delete, other programs writing the folder's files)
// take no lock. A conditional write still notices a plain write that lands
// before its comparison, since the stored bytes then differ, but not one
// that lands in the short window between the comparison and the rename (or
// removal): that plain write is then overwritten (or removed).
package filesystem

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/background"
)

// ErrKeyTooLong is returned for keys whose file name would exceed what file
// systems allow.
var ErrKeyTooLong = errors.New("filesystem: key too long")

// maxKeyLen keeps base64 file names within the usual 255-byte limit.
const maxKeyLen = 190

// never is the modification time of files that do not expire: far enough
// ahead to mean forever, and before 2262, past which os.Chtimes overflows.
var never = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

const tempPrefix = ".tmp-"

// defaultCleanupInterval is the CleanupInterval used when none is given.
const defaultCleanupInterval = 10 * time.Minute

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// CleanupInterval is how often expired files are removed in the
	// background. Zero means ten minutes; negative disables it (expired
	// files are still never returned, and Purge removes them on demand).
	CleanupInterval time.Duration
	// Logger receives the failures of the background clean-up, which has
	// no caller to return them to. Nil means slog.Default().
	Logger *slog.Logger
}

// Store is a core.Backend over a folder. It implements core.Toucher,
// core.Lister, core.Conditional and core.Expirer. Call Close to stop its
// background clean-up.
type Store struct {
	dir    string
	now    func() time.Time
	locks  *stripeLocks
	logger *slog.Logger
	purger *background.Loop // nil when disabled
}

var (
	_ core.Toucher     = (*Store)(nil)
	_ core.Lister      = (*Store)(nil)
	_ core.Conditional = (*Store)(nil)
	_ core.Expirer     = (*Store)(nil)
)

// New returns a Store over dir, creating it readable by its owner only.
// It fails only if the folder cannot be created.
func New(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("filesystem: %w", err)
	}
	s := &Store{dir: dir, now: time.Now, locks: newStripeLocks(dir), logger: opts.Logger}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	interval := opts.CleanupInterval
	if interval == 0 {
		interval = defaultCleanupInterval
	}
	if interval > 0 {
		s.purger = background.Every(interval, s.backgroundPurge)
	}
	return s, nil
}

// backgroundPurge runs Purge for the background loop and logs its failure,
// unless Close canceled it.
func (s *Store) backgroundPurge(ctx context.Context) {
	if _, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
		s.logger.Error("filesystem: background purge failed", "dir", s.dir, "err", err)
	}
}

// path returns the file for key: the key in URL-safe base64, which is
// reversible for Keys and safe in any file name.
func (s *Store) path(key string) (string, error) {
	if len(key) > maxKeyLen {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrKeyTooLong, len(key), maxKeyLen)
	}
	return filepath.Join(s.dir, "s"+base64.RawURLEncoding.EncodeToString([]byte(key))), nil
}

// Get implements core.Backend.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := s.path(key)
	if err != nil {
		return nil, err
	}
	value, err := s.load(path)
	if errors.Is(err, errExpired) {
		s.removeExpired(ctx, key, path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filesystem: %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return nil, failed("get", key, err)
	}
	return value, nil
}

// failed reports that op on key failed with err, without the file's path:
// the path holds the key in base64, which would show a session id in a
// form that the core, which replaces keys in errors, cannot recognise.
func failed(op, key string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = fmt.Errorf("%s: %w", pe.Op, pe.Err)
	case errors.As(err, &le):
		err = fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return fmt.Errorf("filesystem: %s %q: %w", op, key, err)
}

// errExpired is returned by load for a file whose time has passed. It
// matches fs.ErrNotExist, since an expired value counts as absent.
var errExpired = fmt.Errorf("session file expired: %w", fs.ErrNotExist)

// load reads the file at path whole. It returns an error matching
// fs.ErrNotExist when the file is absent or expired (errExpired).
func (s *Store) load(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.ModTime().After(s.now()) {
		return nil, errExpired
	}
	// The open file is the one that was renamed into place: a writer that
	// renames another over the path meanwhile does not change what we read.
	value := make([]byte, info.Size())
	if _, err := f.ReadAt(value, 0); err != nil && info.Size() > 0 {
		return nil, err
	}
	return value, nil
}

// Set implements core.Backend.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := s.path(key)
	if err != nil {
		return err
	}
	if err := s.write(path, value, s.expiry(ttl)); err != nil {
		return failed("set", key, err)
	}
	return nil
}

// write puts value in a temporary file and renames it over path.
func (s *Store) write(path string, value []byte, expires time.Time) error {
	f, err := os.CreateTemp(s.dir, tempPrefix) // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(tmp, time.Time{}, expires)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Delete implements core.Backend.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return failed("delete", key, err)
	}
	return nil
}

// Touch implements core.Toucher by moving the file's modification time.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := s.path(key)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err == nil && !info.ModTime().After(s.now()) {
		s.removeExpired(ctx, key, path)
		err = fs.ErrNotExist
	}
	if err == nil {
		err = os.Chtimes(path, time.Time{}, s.expiry(ttl))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filesystem: %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return failed("touch", key, err)
	}
	return nil
}

// ExpiresAt implements core.Expirer with one stat of the key's file: its
// modification time is the expiry, and the value is not read. It returns
// the zero time for a key stored without expiry and an error wrapping
// core.ErrNotFound for one that is absent or expired. An expired file is
// left for Get, Touch or Purge to remove.
func (s *Store) ExpiresAt(ctx context.Context, key string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	path, err := s.path(key)
	if err != nil {
		return time.Time{}, err
	}
	info, err := os.Stat(path)
	if err == nil && !info.ModTime().After(s.now()) {
		err = fs.ErrNotExist
	}
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, fmt.Errorf("filesystem: %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, failed("expiresat", key, err)
	}
	if !info.ModTime().Before(never) {
		return time.Time{}, nil
	}
	return info.ModTime(), nil
}

// Keys implements core.Lister.
func (s *Store) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		entries, err := os.ReadDir(s.dir)
		if err != nil {
			yield("", fmt.Errorf("filesystem: list: %w", err))
			return
		}
		now := s.now()
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			key, ok := keyOf(e.Name())
			if !ok || !strings.HasPrefix(key, prefix) {
				continue
			}
			if info, err := e.Info(); err != nil || !info.ModTime().After(now) {
				continue // removed meanwhile, or expired
			}
			if !yield(key, nil) {
				return
			}
		}
	}
}

func keyOf(name string) (string, bool) {
	enc, ok := strings.CutPrefix(name, "s")
	if !ok {
		return "", false
	}
	key, err := base64.RawURLEncoding.DecodeString(enc)
	return string(key), err == nil
}

// Purge removes expired session files, and temporary files that a crashed
// writer left behind more than an hour ago. It returns how many sessions it
// removed. Lock files and files of other names are left alone.
func (s *Store) Purge(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("filesystem: purge: %w", err)
	}
	now, n := s.now(), 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if now.Sub(info.ModTime()) > time.Hour {
				os.Remove(path)
			}
			continue
		}
		key, ok := keyOf(e.Name())
		if ok && !info.ModTime().After(now) && s.removeExpired(ctx, key, path) {
			n++
		}
	}
	return n, nil
}

// removeExpired deletes the file of key at path if it is still expired,
// under the key's lock so that a conditional writer never sees the file
// missing while a fresh one is being put back. Plain writers take no lock:
// one may have renamed a fresh file over path since it was seen expired, so
// the file is first moved aside atomically and checked there; a fresh one
// is linked back unless a newer one has taken its place meanwhile. Removal
// is only tidying, so it is skipped when the lock cannot be had.
func (s *Store) removeExpired(ctx context.Context, key, path string) bool {
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return false
	}
	defer unlock()
	aside := filepath.Join(s.dir, tempPrefix+"purge-"+randomHex())
	if os.Rename(path, aside) != nil {
		return false
	}
	defer os.Remove(aside)
	info, err := os.Stat(aside)
	if err == nil && info.ModTime().After(s.now()) {
		_ = os.Link(aside, path) // fails, rightly, if a newer file exists
		return false
	}
	return true
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Store) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return never
	}
	return s.now().Add(ttl)
}

// Close stops the background clean-up and waits for a run in progress to
// end. The store keeps working without it; Purge still works on demand.
func (s *Store) Close() error {
	s.purger.Stop()
	return nil
}
