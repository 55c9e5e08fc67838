package memcached

import (
	"context"
	"time"
)

// detach reports whether a call under ctx must run on its own goroutine
// because ctx's deadline comes before the longest the client may block
// (longestCall). It returns ctx's error when ctx has already ended, so that
// no I/O is started for it.
func (s *Store) detach(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < longestCall(s.timeout), nil
}

// longestCall is the longest one call may block inside a gomemcache client
// whose Timeout is d: the connect, then the exchange, under a socket
// deadline that gomemcache renews before each line of a get's reply (the
// value line, then END). Other commands read one reply line, so they block
// at most twice d; a frozen server, whose kernel still accepts connections,
// blocks a call about d. A call is made again only after attempts that
// failed within retryWindow(d) (see Store.again), so that adds at most that.
func longestCall(d time.Duration) time.Duration { return 3*d + retryWindow(d) }

// retryWindow is how soon after its start a call may still be made again:
// a refused connect or a connection the server had closed fails at once,
// whereas a later failure says the server is slow, and trying again would
// only make the caller wait longer.
func retryWindow(d time.Duration) time.Duration { return d / 10 }

// run calls op, which gomemcache cannot interrupt, on its own goroutine and
// returns ctx's error as soon as ctx ends. An abandoned op keeps running
// until the client's timeout and its result is dropped; it must not share
// memory that the caller may change after run returns. Calls that need no
// detaching skip run, and the closure it would cost.
func run[T any](ctx context.Context, op func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned op never blocks
	go func() {
		v, err := op()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// noValue adapts an operation that returns only an error to run.
func noValue(op func() error) func() (struct{}, error) {
	return func() (struct{}, error) { return struct{}{}, op() }
}
