package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// lazyStmt prepares its query on first use, so that New needs no
// connection, and keeps the *sql.Stmt (which database/sql re-prepares on
// each pooled connection as needed). A failed prepare is retried next time.
type lazyStmt struct {
	query string
	mu    sync.Mutex // serializes preparing and closing
	stmt  atomic.Pointer[sql.Stmt]
}

func (l *lazyStmt) get(ctx context.Context, db *sql.DB) (*sql.Stmt, error) {
	if st := l.stmt.Load(); st != nil {
		return st, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.stmt.Load(); st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, l.query)
	if err != nil {
		return nil, err
	}
	l.stmt.Store(st)
	return st, nil
}

func (l *lazyStmt) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.stmt.Swap(nil); st != nil {
		return st.Close()
	}
	return nil
}
