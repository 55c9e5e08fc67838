package backendtest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// BenchmarkSessionWrites measures saves by 50 goroutines at once through a
// Manager on b, spread over the given number of sessions (1: all on one
// session): each op loads a session, increments a counter and saves it.
// It reports conflicts/op, the conditional writes that lost a race and
// were retried, and, when roundTrips is not nil, roundtrips/op, what it
// counts (commands or statements sent to the server) divided by the ops.
// Run it beside the same benchmark on Plain(b), the blind last-save-wins
// write, to see what correctness costs, and beside itself with 50 sessions
// to see what contention on one costs. At the end it checks that no
// increment was lost (none is expected on a Conditional backend; Plain's
// loss is reported as lost/op).
func BenchmarkSessionWrites(tb *testing.B, b core.Backend, sessions int, roundTrips func() int64) {
	const writers = 50
	counted := &conflictCounter{Backend: b}
	var backend core.Backend = counted
	if c, ok := b.(core.Conditional); ok {
		counted.cond = c
		backend = conditionalCounter{counted}
	}
	m := core.NewManager(backend)
	m.KeyPrefix = "cloakroombench:" + randomHex(6) + ":"
	m.ErrorHandler = func(context.Context, error) {}
	ctx := context.Background()
	ids := make([]string, max(sessions, 1))
	for i := range ids {
		s := m.New(ctx)
		s.Set("n", 0)
		if _, err := m.Save(ctx, s); err != nil {
			tb.Fatal(err)
		}
		ids[i] = s.ID()
		tb.Cleanup(func() { _ = b.Delete(ctx, m.KeyPrefix+s.ID()) })
	}

	var ops, next atomic.Int64
	var sent int64
	if roundTrips != nil {
		sent = roundTrips()
	}
	tb.ReportAllocs()
	tb.SetParallelism((writers + 1) / 2) // GOMAXPROCS is 2 on the benchmark machine
	tb.ResetTimer()
	tb.RunParallel(func(pb *testing.PB) {
		id := ids[int(next.Add(1))%len(ids)] // each writer keeps to one session
		for pb.Next() {
			s, err := m.Load(ctx, id)
			if err == nil {
				_, err = s.Incr("n", 1)
			}
			if err == nil {
				_, err = m.Save(ctx, s)
			}
			if err != nil {
				tb.Error(err)
				return
			}
			ops.Add(1)
		}
	})
	tb.StopTimer()
	done := max(1, ops.Load())
	if roundTrips != nil {
		tb.ReportMetric(float64(roundTrips()-sent)/float64(done), "roundtrips/op")
	}
	total := int64(0)
	for _, id := range ids {
		final, err := m.Load(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		n, _ := final.GetInt("n")
		total += n
	}
	tb.ReportMetric(float64(counted.conflicts.Load())/float64(done), "conflicts/op")
	tb.ReportMetric(float64(ops.Load()-total)/float64(done), "lost/op")
}

// conflictCounter counts the conditional writes of a backend that lose a
// race.
type conflictCounter struct {
	core.Backend
	cond      core.Conditional
	conflicts atomic.Int64
}

// conditionalCounter is a conflictCounter that is also Conditional, so
// that the Manager takes the conditional path.
type conditionalCounter struct{ *conflictCounter }

// VersionOf passes core.Versioner through, so that counting changes
// nothing of what the Manager does; without it, it tells no version.
func (c conditionalCounter) VersionOf(value []byte) core.Version {
	if v, ok := c.cond.(core.Versioner); ok {
		return v.VersionOf(value)
	}
	return nil
}

func (c conditionalCounter) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	return c.cond.GetVersion(ctx, key)
}

func (c conditionalCounter) SetIf(ctx context.Context, key string, v core.Version, value []byte, ttl time.Duration) error {
	return c.count(c.cond.SetIf(ctx, key, v, value, ttl))
}

func (c conditionalCounter) DeleteIf(ctx context.Context, key string, v core.Version) error {
	return c.count(c.cond.DeleteIf(ctx, key, v))
}

func (c *conflictCounter) count(err error) error {
	if errors.Is(err, core.ErrConflict) {
		c.conflicts.Add(1)
	}
	return err
}
