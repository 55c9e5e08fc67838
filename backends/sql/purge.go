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

// purgeOnce returns the background purge: one Purge, given one interval or
// 30 seconds, whichever is longer, with failures logged.
func (s *Store) purgeOnce(interval time.Duration) func(context.Context) {
	return func(ctx context.Context) {
		runCtx, cancel := context.WithTimeout(ctx, max(interval, 30*time.Second))
		defer cancel()
		n, err := s.Purge(runCtx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger.Warn("sqlstore: background purge failed", "table", s.table.Name, "err", err)
		case n > 0:
			s.logger.Debug("sqlstore: purged expired rows", "table", s.table.Name, "rows", n)
		}
	}
}
