package sqltest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// The load of CheckKilledConnections.
const (
	killWorkers  = 8                      // goroutines sending requests
	killSessions = 50                     // sessions they share
	killRun      = 3 * time.Second        // how long the load runs
	killEvery    = 800 * time.Millisecond // between kills, the first after as long
	killCount    = 3                      // kills during the run
	// RecoveryLimit is how soon after each kill a request must succeed
	// again: the pool must replace its dead connections by itself.
	RecoveryLimit = 2 * time.Second
)

// Killed is what CheckKilledConnections measured.
type Killed struct {
	Requests   int             // read and increment requests sent
	Errors     int             // of them, failed
	Killed     []int           // connections killed, at each kill
	Recoveries []time.Duration // from each kill to the first success of a request begun after it
	Lost       int             // acknowledged increments missing at the end
	Renewed    int             // sessions that came back as new sessions
	Twice      int             // increments beyond those attempted (applied twice)
	Samples    []string        // the first errors, with keys hashed as the Manager's errors have them
}

// Outage is the longest of the recoveries.
func (k Killed) Outage() time.Duration {
	var longest time.Duration
	for _, r := range k.Recoveries {
		longest = max(longest, r)
	}
	return longest
}

func (k Killed) String() string {
	recoveries := make([]time.Duration, len(k.Recoveries))
	for i, r := range k.Recoveries {
		recoveries[i] = r.Round(time.Millisecond)
	}
	return fmt.Sprintf("%d requests in %v, %d errors, connections killed %v, recovered after %v (longest outage %v), "+
		"acknowledged increments lost %d, sessions lost %d, increments applied twice %d",
		k.Requests, killRun, k.Errors, k.Killed, recoveries, k.Outage().Round(time.Millisecond), k.Lost, k.Renewed, k.Twice)
}

// CheckKilledConnections runs a Manager over s, killWorkers goroutines
// sending read and increment requests (Manager.Load, Session.Incr,
// Manager.Save) on killSessions sessions for killRun, and meanwhile kills
// every connection of s's pool, killCount times, with kill, which returns
// how many it killed; it must find some each time. Requests may fail
// around each kill, but one begun after it must succeed within
// RecoveryLimit, without anything restarted; at the end every session must
// hold at least the increments whose save was acknowledged (none lost, none
// turned into a new session). Increments beyond those attempted are
// counted and logged (see Killed.Twice). It returns the figures for the
// test to print.
func CheckKilledConnections(t *testing.T, s core.Conditional, kill func(context.Context) (int, error)) Killed {
	t.Helper()
	ctx := context.Background()
	m := core.NewManager(s)
	m.KeyPrefix = "cloakroomtest:killed:"
	m.ErrorHandler = func(context.Context, error) {} // failed saves are counted where they fail

	type session struct {
		id        string
		acked     atomic.Int64 // increments whose save succeeded
		attempted atomic.Int64 // increments whose save was tried
		mu        sync.Mutex   // held by the request that finds it renewed, so that it is counted once
		renewed   bool
	}
	sessions := make([]*session, killSessions)
	for i := range sessions {
		fresh := m.New(ctx)
		fresh.Set("n", int64(0))
		if _, err := m.Save(ctx, fresh); err != nil {
			t.Fatalf("Save of a new session: %v", err)
		}
		sessions[i] = &session{id: fresh.ID()}
		t.Cleanup(func() { _ = s.Delete(context.Background(), m.KeyPrefix+fresh.ID()) })
	}

	// Each worker records when its requests began and ended, and whether
	// they succeeded, for the recoveries.
	type outcome struct {
		begun, ended time.Time
		ok           bool
	}
	outcomes := make([][]outcome, killWorkers)
	var samplesMu sync.Mutex
	var samples []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range killWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ss := sessions[rand.IntN(len(sessions))]
				begun := time.Now()
				err := request(ctx, m, ss.id, &ss.acked, &ss.attempted, func() {
					ss.mu.Lock()
					ss.renewed = true
					ss.mu.Unlock()
				})
				outcomes[w] = append(outcomes[w], outcome{begun, time.Now(), err == nil})
				if err != nil {
					samplesMu.Lock()
					if len(samples) < 3 {
						samples = append(samples, err.Error())
					}
					samplesMu.Unlock()
				}
			}
		}()
	}

	k := Killed{}
	var kills []time.Time
	start := time.Now()
	for i := range killCount {
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * killEvery)))
		kctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := kill(kctx)
		cancel()
		at := time.Now() // recoveries count from the kill statement's return
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("kill #%d: %v", i+1, err)
		}
		kills = append(kills, at)
		k.Killed = append(k.Killed, n)
	}
	time.Sleep(time.Until(start.Add(killRun)))
	close(stop)
	wg.Wait()
	k.Samples = samples

	for i, at := range kills {
		recovered := time.Duration(-1)
		for _, outs := range outcomes {
			for _, o := range outs {
				if o.ok && o.begun.After(at) && (recovered < 0 || o.ended.Sub(at) < recovered) {
					recovered = o.ended.Sub(at)
				}
			}
		}
		if recovered < 0 {
			t.Errorf("no request begun after kill #%d succeeded", i+1)
			recovered = time.Since(at)
		}
		k.Recoveries = append(k.Recoveries, recovered)
	}
	for _, outs := range outcomes {
		for _, o := range outs {
			k.Requests++
			if !o.ok {
				k.Errors++
			}
		}
	}

	for _, ss := range sessions {
		loaded, err := m.Load(ctx, ss.id)
		if err != nil {
			t.Fatalf("Load after the run: %v", err)
		}
		n, _ := loaded.GetInt("n")
		if loaded.IsNew() {
			ss.renewed = true
		}
		if ss.renewed {
			k.Renewed++
		}
		if acked := ss.acked.Load(); n < acked {
			k.Lost += int(acked - n)
		}
		if attempted := ss.attempted.Load(); n > attempted {
			k.Twice += int(n - attempted)
		}
	}

	for i, n := range k.Killed {
		if n == 0 {
			t.Errorf("kill #%d found no connection of the pool to kill", i+1)
		}
	}
	if k.Outage() > RecoveryLimit {
		t.Errorf("a request begun after a kill first succeeded %v after it, want within %v", k.Outage(), RecoveryLimit)
	}
	if k.Lost > 0 || k.Renewed > 0 {
		t.Errorf("%d acknowledged increments lost, %d sessions came back new; want none", k.Lost, k.Renewed)
	}
	if k.Twice > 0 {
		t.Errorf("%d increments applied twice, more than were attempted", k.Twice)
	}
	if k.Requests < 10*killWorkers {
		t.Errorf("only %d requests in %v", k.Requests, killRun)
	}
	return k
}

// request loads the session id, increments its counter and saves it,
// counting the increment in attempted before the save and in acked once
// the save succeeded. A session that comes back new (its row lost) calls
// renewed and is not saved, so that the next request still finds it lost.
// It returns why the request failed, or nil.
func request(ctx context.Context, m *core.Manager, id string, acked, attempted *atomic.Int64, renewed func()) error {
	s, err := m.Load(ctx, id)
	if err != nil {
		return err
	}
	if s.IsNew() {
		renewed()
		return errors.New("the session came back new")
	}
	if _, err := s.Incr("n", 1); err != nil {
		return err
	}
	attempted.Add(1)
	wrote, err := m.Save(ctx, s)
	switch {
	case err != nil:
		return err
	case !wrote:
		return errors.New("the save wrote nothing")
	}
	acked.Add(1)
	return nil
}
