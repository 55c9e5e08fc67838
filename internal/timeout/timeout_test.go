package timeout

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBound(t *testing.T) {
	soon, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		d       time.Duration
		same    bool          // Bound returns ctx itself
		atLeast time.Duration // else the deadline is this far or further
	}{
		{"no timeout", context.Background(), 0, true, 0},
		{"negative timeout", context.Background(), -time.Second, true, 0},
		{"ctx ends sooner", soon, time.Minute, true, 0},
		{"no deadline", context.Background(), time.Minute, false, 59 * time.Second},
		{"ctx ends later", soon, 100 * time.Millisecond, false, 0},
	} {
		ctx, release := Bound(tc.ctx, tc.d)
		deadline, ok := ctx.Deadline()
		switch {
		case tc.same && ctx != tc.ctx:
			t.Errorf("%s: got a new context, want ctx itself", tc.name)
		case !tc.same && (ctx == tc.ctx || !ok):
			t.Errorf("%s: got ctx itself or no deadline, want ctx bounded by %v", tc.name, tc.d)
		case !tc.same && (time.Until(deadline) > tc.d || time.Until(deadline) < tc.atLeast):
			t.Errorf("%s: deadline in %v, want within %v", tc.name, time.Until(deadline), tc.d)
		}
		release()
		if !tc.same && ctx.Err() == nil {
			t.Errorf("%s: the context is still live after release", tc.name)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep with an ended context = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Sleep with an ended context took %v", d)
	}
}
