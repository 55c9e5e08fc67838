//go:build unix && !solaris && !aix

package filesystem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Waits between attempts to take a busy lock: short at first, since locks
// are held for one small read and one rename, and bounded so a waiter is
// not left sleeping long after the lock was freed.
const (
	firstLockWait = 50 * time.Microsecond
	maxLockWait   = 5 * time.Millisecond
)

// stripeLocks are flock(2) locks on the folder's lock files. Each lock
// opens the file anew: flock locks belong to the open file description, so
// two opens exclude each other whether they are in one process or two.
//
// In front of each lock file is a queue of this Store's goroutines (a
// channel of capacity one), so that they hand the stripe over to each
// other at once and only one of them at a time polls the file.
type stripeLocks struct {
	dir    string
	queues [lockStripes]chan struct{}
}

func newStripeLocks(dir string) *stripeLocks {
	l := &stripeLocks{dir: dir}
	for i := range l.queues {
		l.queues[i] = make(chan struct{}, 1)
	}
	return l
}

// lock takes the exclusive lock of key's stripe, waiting for it until ctx
// ends, and returns the function that releases it.
func (l *stripeLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	stripe := stripeOf(key)
	queue := l.queues[stripe]
	select {
	case queue <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f, err := openLocked(ctx, filepath.Join(l.dir, lockName(stripe)))
	if err != nil {
		<-queue
		return nil, err
	}
	return func() {
		// Unlock explicitly: a child process forked meanwhile may still
		// hold a copy of the descriptor, which would keep the lock alive
		// past Close until it execs.
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		<-queue
	}, nil
}

// openLocked opens (creating it if need be) the lock file at path and
// takes an exclusive flock on it.
func openLocked(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := flockWait(ctx, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// flockWait takes an exclusive flock on f. It polls with a non-blocking
// flock rather than blocking in the kernel, so that a canceled context ends
// the wait and waiters do not each pin an OS thread.
func flockWait(ctx context.Context, f *os.File) error {
	var timer *time.Timer
	for wait := firstLockWait; ; wait = min(2*wait, maxLockWait) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("lock: %w", err)
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// lockName is the file name of a stripe's lock file. The leading dot keeps
// it apart from session files (which start with "s") and temporary files.
func lockName(stripe int) string {
	return fmt.Sprintf(".lock-%02x", stripe)
}
