package background

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestEveryRunsUntilStop(t *testing.T) {
	var runs atomic.Int32
	l := Every(time.Millisecond, func(context.Context) { runs.Add(1) })
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the loop did not run three times in five seconds")
		}
		time.Sleep(time.Millisecond)
	}
	l.Stop()
	l.Stop()
	after := runs.Load()
	time.Sleep(20 * time.Millisecond)
	if runs.Load() != after {
		t.Fatal("the loop ran after Stop returned")
	}
}

func TestStopCancelsARun(t *testing.T) {
	started := make(chan struct{})
	l := Every(time.Millisecond, func(ctx context.Context) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done() // a slow run that only the cancellation ends
	})
	<-started
	stopped := make(chan struct{})
	go func() { l.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end a run in progress")
	}
}

func TestNilLoop(t *testing.T) {
	var l *Loop
	l.Stop()
}
