package core

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cloakroom/cloakroom/internal/timeout"
)

// saveBound bounds the attempts of one save together when BackendTimeout
// is zero: a save that keeps conflicting, or whose retries meet a slow
// server, then fails with ErrBackend rather than hold its request.
const saveBound = 2 * time.Second

// maxAttempts bounds the conditional writes of one save; with turns taken
// in this process, a few settle all but a storm of other processes.
const maxAttempts = 32

// attempts paces the conditional writes of one save, or of one update of
// a user's index, that conflicted with another writer, and bounds them.
// Its context is the caller's until the first retry; from then on it also
// ends saveBound after the save began, so that the first attempt, which
// usually succeeds, costs no timer.
type attempts struct {
	ctx    context.Context // for the next attempt
	m      *Manager
	start  time.Time
	n      int
	cancel context.CancelFunc
}

func (m *Manager) attempts(ctx context.Context) *attempts {
	return &attempts{ctx: ctx, m: m, start: time.Now()}
}

// again is called after attempt number a.n conflicted with err. It waits
// a little and returns nil when another attempt may go ahead under a.ctx,
// or the error that ends the write.
func (a *attempts) again(op, key string, err error) error {
	a.n++
	if a.n >= maxAttempts {
		return backendError(op, key, fmt.Errorf("gave up after %d attempts: %w", a.n, err))
	}
	if a.m.BackendTimeout == 0 {
		left := time.Until(a.start.Add(saveBound))
		if left <= 0 {
			return a.gaveUp(op, key, context.DeadlineExceeded)
		}
		if a.cancel == nil {
			// Within a save, the index update finds the save's bound.
			a.ctx, a.cancel = timeout.Bound(a.ctx, left)
		}
	}
	if a.n == 1 {
		return nil // the first conflict is usually this process's own turn-taking
	}
	// Jitter, so that processes do not collide again in step.
	ceiling := min(time.Millisecond<<a.n, 50*time.Millisecond)
	if err := timeout.Sleep(a.ctx, rand.N(ceiling)); err != nil {
		return a.gaveUp(op, key, err)
	}
	return nil
}

// gaveUp is the error that ends a write whose time ran out.
func (a *attempts) gaveUp(op, key string, err error) error {
	return backendError(op, key, fmt.Errorf("gave up after %d attempts in %v: %w",
		a.n, time.Since(a.start).Round(time.Millisecond), err))
}

// done releases the bound's timer, if a retry made one.
func (a *attempts) done() {
	if a.cancel != nil {
		a.cancel()
	}
}
