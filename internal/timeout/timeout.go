// Package timeout bounds waits: one call of a backend by the backend's own
// timeout, so that a frozen server cannot hold a request that came with no
// deadline, and a pause between attempts by the caller's context.
package timeout

import (
	"context"
	"time"
)

// Bound returns ctx limited to d, and the function that releases its
// timer. When d is not positive, or ctx ends within d anyway, it returns
// ctx itself and a no-op: no timer, so that the common call costs nothing.
func Bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, noCancel
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= d {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, d)
}

func noCancel() {}

// Sleep waits for d, or until ctx ends, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
