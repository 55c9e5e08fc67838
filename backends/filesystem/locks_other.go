//go:build !unix || solaris || aix

package filesystem

import "context"

// stripeLocks are mutexes of one Store, for platforms without flock (Go's
// syscall package has none on Windows, Solaris, illumos and AIX): they
// exclude the goroutines that use this Store, not other Stores over the
// same folder nor other processes (see the package documentation). Each is
// a channel of capacity one, so that a waiter can give up when its context
// ends.
type stripeLocks struct {
	stripes [lockStripes]chan struct{}
}

func newStripeLocks(string) *stripeLocks {
	l := &stripeLocks{}
	for i := range l.stripes {
		l.stripes[i] = make(chan struct{}, 1)
	}
	return l
}

// lock takes the lock of key's stripe, waiting for it until ctx ends, and
// returns the function that releases it.
func (l *stripeLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	stripe := l.stripes[stripeOf(key)]
	select {
	case stripe <- struct{}{}:
		return func() { <-stripe }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
