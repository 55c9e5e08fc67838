package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes every expired row and returns how many it deleted. Expired
// rows are never returned by Get, so purging only reclaims space: call it
// from a scheduled job, or set Options.PurgeInterval instead.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	st, err := s.stmts.purge.get(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	res, err := st.ExecContext(ctx, s.nowArg())
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	return n, nil
}

// purgeLoop runs Purge every interval until Close; each run may take one
// interval or 30 seconds, whichever is longer.
func (s *Store) purgeLoop(interval time.Duration) {
	defer close(s.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			runCtx, done := context.WithTimeout(ctx, max(interval, 30*time.Second))
			n, err := s.Purge(runCtx)
			done()
			if err != nil && ctx.Err() == nil {
				s.logger.Warn("sqlstore: background purge failed", "table", s.table.Name, "err", err)
			} else if n > 0 {
				s.logger.Debug("sqlstore: purged expired rows", "table", s.table.Name, "rows", n)
			}
		}
	}
}
