package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes every expired row and returns how many it deleted. Expired
// rows are never returned by Get, so purging only reclaims space. The Store
// does it every Options.CleanupInterval; call Purge yourself when that is
// disabled.
func (s *Store) Purge(ctx context.Context) (int, error) {
	n, err := s.exec(ctx, &s.stmts.purge, s.nowArg())
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	return int(n), nil
}

// cleanupOnce is one background clean-up: a Purge given one interval or 30
// seconds, whichever is longer, with failures logged.
func (s *Store) cleanupOnce(ctx context.Context) {
	runCtx, cancel := context.WithTimeout(ctx, max(s.cleanupInterval, 30*time.Second))
	defer cancel()
	n, err := s.Purge(runCtx)
	switch {
	case err != nil && ctx.Err() == nil:
		s.logger.Warn("sqlstore: background clean-up failed", "table", s.table.Name, "err", err)
	case n > 0:
		s.logger.Debug("sqlstore: deleted expired rows", "table", s.table.Name, "rows", n)
	}
}
