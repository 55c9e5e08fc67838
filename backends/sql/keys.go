package sqlstore

import (
	"context"
	"fmt"
	"iter"
	"strings"
)

// Keys yields every live key that starts with prefix, in the database's key
// order. It reads 500 keys per query and holds no connection while
// the loop body runs, so the body may use the Store. Options.Timeout
// bounds each query, not the whole iteration. Iteration stops at the
// first error, which is yielded.
func (s *Store) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		pattern := likePrefix(prefix)
		from, skip := prefix, false
		for {
			page, err := s.listPage(ctx, pattern, from)
			if err != nil {
				yield("", fmt.Errorf("sqlstore: keys %q: %w", prefix, err))
				return
			}
			for _, k := range page {
				// Skip the previous page's last key; and LIKE may ignore
				// case (SQLite, case-insensitive MySQL collations).
				if (skip && k == from) || !strings.HasPrefix(k, prefix) {
					continue
				}
				if !yield(k, nil) {
					return
				}
			}
			if len(page) < s.pageSize {
				return
			}
			from, skip = page[len(page)-1], true
		}
	}
}

// listPage returns up to pageSize live keys matching pattern, from from on.
func (s *Store) listPage(ctx context.Context, pattern, from string) ([]string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	st, err := s.stmts.keys.get(ctx, s.db)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, pattern, from, s.nowArg(), s.pageSize)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		page = append(page, k)
	}
	return page, rows.Err()
}
