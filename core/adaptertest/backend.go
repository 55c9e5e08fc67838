package adaptertest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

var errInjected = errors.New("adaptertest: injected backend failure")

// recorder is a memory backend that counts calls, notes whether each call's
// context was marked, and fails on demand.
type recorder struct {
	*memory.Store

	mu        sync.Mutex
	calls     []string
	unmarked  int
	failGet   bool
	failWrite bool
}

func (r *recorder) note(ctx context.Context, op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, op)
	if !marked(ctx) {
		r.unmarked++
	}
}

func (r *recorder) fail(get, write bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failGet, r.failWrite = get, write
}

// take returns and forgets the calls made so far.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) Get(ctx context.Context, key string) ([]byte, error) {
	r.note(ctx, "get")
	r.mu.Lock()
	fail := r.failGet
	r.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	return r.Store.Get(ctx, key)
}

func (r *recorder) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	r.note(ctx, "set")
	if r.writesFail() {
		return errInjected
	}
	return r.Store.Set(ctx, key, value, ttl)
}

func (r *recorder) Delete(ctx context.Context, key string) error {
	r.note(ctx, "delete")
	if r.writesFail() {
		return errInjected
	}
	return r.Store.Delete(ctx, key)
}

func (r *recorder) Touch(ctx context.Context, key string, ttl time.Duration) error {
	r.note(ctx, "touch")
	if r.writesFail() {
		return errInjected
	}
	return r.Store.Touch(ctx, key, ttl)
}

func (r *recorder) writesFail() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failWrite
}

var _ core.Toucher = (*recorder)(nil)
