package sqlstore

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// lazyStmt prepares its query on first use, so that New needs no
// connection, and keeps the *sql.Stmt (which database/sql re-prepares on
// each pooled connection as needed). A failed prepare is retried next time.
type lazyStmt struct {
	query string
	// turn admits one goroutine at a time to prepare or close. Unlike a
	// mutex, waiting for it ends with the caller's context, so a prepare
	// held up by a stalled database holds up no other caller past its own
	// deadline.
	turn chan struct{}
	stmt atomic.Pointer[sql.Stmt]
}

func newLazyStmt(query string) lazyStmt {
	return lazyStmt{query: query, turn: make(chan struct{}, 1)}
}

func (l *lazyStmt) get(ctx context.Context, db *sql.DB) (*sql.Stmt, error) {
	if st := l.stmt.Load(); st != nil {
		return st, nil
	}
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.turn }()
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
	l.turn <- struct{}{}
	defer func() { <-l.turn }()
	if st := l.stmt.Swap(nil); st != nil {
		return st.Close()
	}
	return nil
}
