// Package background runs the periodic clean-ups of cloakroom's backends
// (expired sessions swept from memory, files, SQL rows, documents) the same
// way everywhere: on a goroutine of their own, until the backend closes.
package background

import (
	"context"
	"time"
)

// Loop calls a function at a fixed interval until Stop.
type Loop struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Every starts calling fn every interval. Its context is canceled by Stop,
// so that a slow run, such as a purge over the network, ends promptly.
func Every(interval time.Duration, fn func(ctx context.Context)) *Loop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	}()
	return l
}

// Stop ends the loop and waits for a run in progress to return. It may be
// called more than once, and on a nil Loop.
func (l *Loop) Stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}
