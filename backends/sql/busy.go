package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cloakroom/cloakroom/internal/timeout"
)

// sqliteLockWait bounds how long retryBusy keeps trying while an SQLite
// database stays locked by another connection, when ctx allows that long.
const sqliteLockWait = 5 * time.Second

// retryBusy runs f, which opens or sets up an SQLite database, and runs
// it again after a pause for as long as it fails with SQLITE_BUSY
// ("database is locked"), until ctx ends or sqliteLockWait has passed; it
// returns f's last error.
//
// It is for start-up, when several processes may open and set up one new
// file at the same moment, and SQLite's own wait for a lock, the busy
// timeout, falls short: it may be short (400 ms with the sqlite
// sub-package's Open) or none (the default of some drivers, for a *sql.DB
// given to New or OpenDB); and SQLite does not wait at all when a
// connection that holds a read lock asks for the write lock, as turning a
// new file into WAL mode does (it reads the header, then rewrites it),
// since two connections doing so at once would wait for each other
// forever. Once the file is set up, the busy timeout covers the Store's
// statements.
func retryBusy(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(sqliteLockWait)
	pause := 5 * time.Millisecond
	for {
		err := f()
		if err == nil || !sqliteBusy(err) || time.Now().Add(pause).After(deadline) {
			return err
		}
		if timeout.Sleep(ctx, pause) != nil {
			return err
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY, with any driver:
// modernc.org/sqlite's errors have a Code method that gives it (with
// extended codes such as SQLITE_BUSY_SNAPSHOT in the high bits), and the
// other drivers' messages carry SQLite's own text for it.
func sqliteBusy(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code()&0xff == 5 // SQLITE_BUSY
	}
	return strings.Contains(err.Error(), "database is locked")
}
