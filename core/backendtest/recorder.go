package backendtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// Recorder is a backend for tests of code that uses one (the core, an
// adapter, an application): it keeps data in memory, records every call,
// and fails calls on demand. It implements core.Conditional,
// core.Versioner and core.Toucher; wrap it with Plain to hide them.
//
// Calls are recorded as "get KEY", "set KEY", "delete KEY" and "touch KEY";
// the conditional forms (GetVersion, SetIf, DeleteIf) count as the plain
// ones, since a read is a read however it is made.
type Recorder struct {
	store *memory.Store

	// ContextCheck, when set, is asked about every call's context; Recorder
	// counts the calls it rejects (see Unchecked). Tests use it to make sure
	// the backend receives the request's context.
	ContextCheck func(context.Context) bool

	mu         sync.Mutex
	calls      []string
	unchecked  int
	readErr    error
	writeErr   error
	beforeCall func(op, key string)
}

var (
	_ core.Conditional = (*Recorder)(nil)
	_ core.Versioner   = (*Recorder)(nil)
	_ core.Toucher     = (*Recorder)(nil)
)

// NewRecorder returns an empty Recorder whose store is closed when the test
// ends.
func NewRecorder(t testing.TB) *Recorder {
	s := memory.New(memory.Options{CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	return &Recorder{store: s}
}

// Store returns the store behind the Recorder, for tests that set up or
// inspect data without the call being recorded or failed.
func (r *Recorder) Store() *memory.Store { return r.store }

// FailReads makes reads return err from now on; nil makes them work again.
func (r *Recorder) FailReads(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readErr = err
}

// FailWrites makes writes, deletes and touches return err from now on; nil
// makes them work again.
func (r *Recorder) FailWrites(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeErr = err
}

// BeforeCall runs f at the start of every call, outside the Recorder's
// lock, for tests that must act between two steps of the code under test.
func (r *Recorder) BeforeCall(f func(op, key string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.beforeCall = f
}

// Calls returns the calls made since the last Calls, oldest first.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// Unchecked returns how many calls had a context that ContextCheck
// rejected.
func (r *Recorder) Unchecked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unchecked
}

// call records one call and returns the error it must fail with, if any.
func (r *Recorder) call(ctx context.Context, op, key string) error {
	r.mu.Lock()
	r.calls = append(r.calls, op+" "+key)
	if r.ContextCheck != nil && !r.ContextCheck(ctx) {
		r.unchecked++
	}
	err, before := r.writeErr, r.beforeCall
	if op == "get" {
		err = r.readErr
	}
	r.mu.Unlock()
	if before != nil {
		before(op, key)
	}
	return err
}

// Get implements core.Backend.
func (r *Recorder) Get(ctx context.Context, key string) ([]byte, error) {
	if err := r.call(ctx, "get", key); err != nil {
		return nil, err
	}
	return r.store.Get(ctx, key)
}

// Set implements core.Backend.
func (r *Recorder) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := r.call(ctx, "set", key); err != nil {
		return err
	}
	return r.store.Set(ctx, key, value, ttl)
}

// Delete implements core.Backend.
func (r *Recorder) Delete(ctx context.Context, key string) error {
	if err := r.call(ctx, "delete", key); err != nil {
		return err
	}
	return r.store.Delete(ctx, key)
}

// Touch implements core.Toucher.
func (r *Recorder) Touch(ctx context.Context, key string, ttl time.Duration) error {
	if err := r.call(ctx, "touch", key); err != nil {
		return err
	}
	return r.store.Touch(ctx, key, ttl)
}

// GetVersion implements core.Conditional.
func (r *Recorder) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	if err := r.call(ctx, "get", key); err != nil {
		return nil, nil, err
	}
	return r.store.GetVersion(ctx, key)
}

// SetIf implements core.Conditional.
func (r *Recorder) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	if err := r.call(ctx, "set", key); err != nil {
		return err
	}
	return r.store.SetIf(ctx, key, version, value, ttl)
}

// DeleteIf implements core.Conditional.
func (r *Recorder) DeleteIf(ctx context.Context, key string, version core.Version) error {
	if err := r.call(ctx, "delete", key); err != nil {
		return err
	}
	return r.store.DeleteIf(ctx, key, version)
}

// VersionOf implements core.Versioner; it is no call to the store.
func (r *Recorder) VersionOf(value []byte) core.Version { return r.store.VersionOf(value) }

// Plain returns b with only the methods of core.Backend, hiding every
// optional capability, as a minimal backend of an application's own would
// look.
func Plain(b core.Backend) core.Backend { return plain{b} }

type plain struct{ core.Backend }
