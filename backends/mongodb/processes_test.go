package mongodb

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The tests in this file share one session between two processes, each
// with its own client and Store on one collection, as two application
// instances do: the test process and a peer, which is the test binary
// started again with peerEnv naming the collection. The peer reads
// commands (peerCommand, one JSON object a line) on its stdin and answers
// each with a peerResult on its stdout. In-process tests cannot show what
// these do: a Store serializes its own writes, so only another process's
// writes race with them.

// peerEnv names the collection of a peer process in its environment.
const peerEnv = "CLOAKROOM_MONGODB_PEER"

// peerKeyPrefix is the Managers' KeyPrefix in both processes.
const peerKeyPrefix = "proc:"

// TestMain runs the tests, or, in a peer process, the peer.
func TestMain(m *testing.M) {
	if coll := os.Getenv(peerEnv); coll != "" {
		os.Exit(runPeer(coll))
	}
	os.Exit(m.Run())
}

// peerCommand is one process's part of a test.
type peerCommand struct {
	Role    string   // "incr", "keys" or "incr-until-gone"
	ID      string   // the shared session
	N       int      // incr: how many increments, spread over the workers
	Keys    []string // keys: the session keys to set, one save each
	Workers int      // goroutines
	Idle    bool     // the Manager has an idle timeout and touches on every save
}

// peerResult is what one process's part acknowledged.
type peerResult struct {
	Acked  int      // saves that returned nil
	Keys   []string // keys whose save returned nil
	Errors []string // the first few errors
	Failed string   // the peer could not run at all
}

// runPeer is the peer process: it answers commands until its stdin ends.
func runPeer(coll string) int {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(testURI()).SetServerSelectionTimeout(3 * time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		return 1
	}
	defer func() { _ = client.Disconnect(ctx) }()
	s, err := New(ctx, client.Database(testDatabase).Collection(coll), peerOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		return 1
	}
	defer func() { _ = s.Close() }()
	out := json.NewEncoder(os.Stdout)
	_ = out.Encode(peerResult{}) // ready
	in := json.NewDecoder(os.Stdin)
	for {
		var c peerCommand
		if err := in.Decode(&c); err != nil {
			return 0 // the test ended
		}
		_ = out.Encode(work(ctx, peerManager(s, c.Idle), c))
	}
}

// peerOptions are the Options of the Store in either process. Each call
// is bounded, as in production, but generously, so that a busy machine
// does not fail saves that would succeed.
func peerOptions() Options {
	return Options{Logger: slog.New(slog.DiscardHandler), CleanupInterval: -1, Timeout: 5 * time.Second}
}

// peerManager returns a Manager on b as both processes configure it.
func peerManager(b core.Backend, idle bool) *core.Manager {
	m := core.NewManager(b)
	m.KeyPrefix = peerKeyPrefix
	if idle {
		m.IdleTimeout = time.Hour
		m.TouchInterval = time.Nanosecond // every save of a loaded session touches
	}
	return m
}

// work runs c in this process.
func work(ctx context.Context, m *core.Manager, c peerCommand) peerResult {
	var r results
	var next atomic.Int64 // the next item a worker takes: an increment or a key
	parallel(c.Workers, func() {
		switch c.Role {
		case "incr":
			for next.Add(1) <= int64(c.N) {
				r.note(save(ctx, m, c.ID, func(s *core.Session) { _, _ = s.Incr("n", 1) }), "")
			}
		case "keys":
			for i := next.Add(1) - 1; i < int64(len(c.Keys)); i = next.Add(1) - 1 {
				key := c.Keys[i]
				r.note(save(ctx, m, c.ID, func(s *core.Session) { s.Set(key, true) }), key)
			}
		case "incr-until-gone":
			incrUntilGone(ctx, m, c.ID, &r)
		default:
			r.note(fmt.Errorf("unknown role %q", c.Role), "")
		}
	})
	return r.result()
}

// parallel runs f in n goroutines (at least one) and waits for them.
func parallel(n int, f func()) {
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	wg.Wait()
}

// errGone is save's error for a session that no longer loads.
var errGone = errors.New("the session is gone")

// save loads id, changes it and saves it: one request.
func save(ctx context.Context, m *core.Manager, id string, change func(*core.Session)) error {
	s, err := m.Load(ctx, id)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if s.IsNew() {
		return errGone
	}
	change(s)
	if _, err := m.Save(ctx, s); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// incrUntilGone increments the session until it sees it deleted: it no
// longer loads, or a save says another request deleted it.
func incrUntilGone(ctx context.Context, m *core.Manager, id string, r *results) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		err := save(ctx, m, id, func(s *core.Session) { _, _ = s.Incr("n", 1) })
		if errors.Is(err, errGone) || errors.Is(err, core.ErrInterrupted) {
			return
		}
		r.note(err, "")
	}
	r.note(errors.New("the session was never seen deleted"), "")
}

// results gathers the outcomes of one process's workers.
type results struct {
	mu sync.Mutex
	r  peerResult
}

// note counts one save: acknowledged when err is nil, with key if any.
func (rs *results) note(err error, key string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	switch {
	case err == nil:
		rs.r.Acked++
		if key != "" {
			rs.r.Keys = append(rs.r.Keys, key)
		}
	case len(rs.r.Errors) < 5:
		rs.r.Errors = append(rs.r.Errors, err.Error())
	}
}

// result returns what was noted.
func (rs *results) result() peerResult {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.r
}

// peer is a peer process a test started.
type peer struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	results chan peerResult // closed when the peer's stdout ends
}

// startPeer starts a peer on coll, stopped when the test ends, and waits
// until its Store is ready.
func startPeer(t *testing.T, coll string) *peer {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), peerEnv+"="+coll)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the peer: %v", err)
	}
	p := &peer{cmd: cmd, in: in, results: make(chan peerResult)}
	go p.read(out)
	t.Cleanup(p.stop)
	p.result(t) // ready
	return p
}

// read hands each line the peer writes to p.results.
func (p *peer) read(out io.Reader) {
	defer close(p.results)
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		var r peerResult
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			r.Failed = fmt.Sprintf("%v: %q", err, lines.Bytes())
		}
		p.results <- r
	}
}

// send asks the peer to run c.
func (p *peer) send(t *testing.T, c peerCommand) {
	t.Helper()
	if err := json.NewEncoder(p.in).Encode(c); err != nil {
		t.Fatalf("send to the peer: %v", err)
	}
}

// result waits for the peer's next answer.
func (p *peer) result(t *testing.T) peerResult {
	t.Helper()
	r, err := p.await()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// await waits for the peer's next answer, from any goroutine.
func (p *peer) await() (peerResult, error) {
	select {
	case r, ok := <-p.results:
		if !ok {
			return r, errors.New("the peer exited")
		}
		if r.Failed != "" {
			return r, errors.New("peer: " + r.Failed)
		}
		return r, nil
	case <-time.After(30 * time.Second):
		return peerResult{}, errors.New("the peer did not answer within 30s")
	}
}

// answer waits for the peer's answer in the background: the channel is
// closed when it has come, and the function returns it.
func (p *peer) answer(t *testing.T) (<-chan struct{}, func() peerResult) {
	done := make(chan struct{})
	var r peerResult
	var err error
	go func() {
		defer close(done)
		r, err = p.await()
	}()
	return done, func() peerResult {
		t.Helper()
		<-done
		if err != nil {
			t.Fatal(err)
		}
		logErrors(t, "peer", r)
		return r
	}
}

// stop ends the peer's input, which ends the peer, and waits for it.
func (p *peer) stop() {
	_ = p.in.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// processes is a test's two processes on one collection: this one, with
// a Store of its own, and a peer.
type processes struct {
	store *Store
	peer  *peer
}

// startProcesses starts a peer on a fresh collection, on which this
// process has a Store too.
func startProcesses(t *testing.T) *processes {
	t.Helper()
	coll := freshCollection(t, testClient(t))
	return &processes{store: newTestStoreOn(t, coll, peerOptions()), peer: startPeer(t, coll.Name())}
}

// run has the peer run c while this process runs mine, which is told
// when the peer has answered, and returns what each acknowledged.
func (ps *processes) run(t *testing.T, c peerCommand, mine func(peerDone <-chan struct{}) peerResult) (peer, local peerResult) {
	t.Helper()
	ps.peer.send(t, c)
	done, answer := ps.peer.answer(t)
	local = mine(done)
	logErrors(t, "test process", local)
	return answer(), local
}

// logErrors logs the errors a process's part ran into.
func logErrors(t *testing.T, who string, r peerResult) {
	t.Helper()
	for _, e := range r.Errors {
		t.Logf("%s: %s", who, e)
	}
}

// load loads id through m and fails the test unless it is stored.
func load(t *testing.T, m *core.Manager, id string) *core.Session {
	t.Helper()
	s, err := m.Load(context.Background(), id)
	if err != nil || s.IsNew() {
		t.Fatalf("Load: new %v, err %v; want the stored session", s != nil && s.IsNew(), err)
	}
	return s
}

// TestProcessesIncrement has two processes increment one counter 250
// times each, five workers apiece: the stored counter must equal the
// number of saves acknowledged, which must be all 500.
func TestProcessesIncrement(t *testing.T) {
	const each, workers = 250, 5
	ps := startProcesses(t)
	m := peerManager(ps.store, false)
	id := backendtest.SaveNew(t, m, map[string]any{"n": 0})
	c := peerCommand{Role: "incr", ID: id, N: each, Workers: workers}
	start := time.Now()
	peer, local := ps.run(t, c, func(<-chan struct{}) peerResult { return work(context.Background(), m, c) })
	n, _ := load(t, m, id).GetInt("n")
	acked := peer.Acked + local.Acked
	t.Logf("%d increments kept, %d acknowledged (peer %d, test process %d) of %d, in %v",
		n, acked, peer.Acked, local.Acked, 2*each, time.Since(start).Round(time.Millisecond))
	if n != int64(acked) {
		t.Errorf("the counter is %d after %d acknowledged increments", n, acked)
	}
	if acked != 2*each {
		t.Errorf("%d of %d increments acknowledged", acked, 2*each)
	}
}

// TestProcessesKeys has two processes set 25 keys each in one session,
// five workers apiece: every key whose save was acknowledged must be kept.
func TestProcessesKeys(t *testing.T) {
	ps := startProcesses(t)
	m := peerManager(ps.store, false)
	id := backendtest.SaveNew(t, m, map[string]any{"user": "alice"})
	c := peerCommand{Role: "keys", ID: id, Keys: keyNames("b", 25), Workers: 5}
	mine := c
	mine.Keys = keyNames("a", 25)
	peer, local := ps.run(t, c, func(<-chan struct{}) peerResult { return work(context.Background(), m, mine) })
	checkKeys(t, load(t, m, id), 50, peer, local)
}

// TestProcessesIdleTouch has one process only read a session with an idle
// timeout, each save touching it, while the other sets 50 keys: a touch
// must not put back the data it read over a write of the other process.
func TestProcessesIdleTouch(t *testing.T) {
	ps := startProcesses(t)
	counted := &touchCounter{Store: ps.store}
	m := peerManager(counted, true)
	id := backendtest.SaveNew(t, m, map[string]any{"user": "alice"})
	c := peerCommand{Role: "keys", ID: id, Keys: keyNames("k", 50), Workers: 5, Idle: true}
	peer, local := ps.run(t, c, func(done <-chan struct{}) peerResult { return readUntil(m, id, done) })
	t.Logf("the reading process made %d saves and %d touches", local.Acked, counted.n.Load())
	if counted.n.Load() == 0 {
		t.Error("the reading process never touched the session")
	}
	checkKeys(t, load(t, m, id), 50, peer, peerResult{})
}

// touchCounter counts the Touch calls of the Store it wraps.
type touchCounter struct {
	*Store
	n atomic.Int64
}

// Touch counts the call and passes it on.
func (c *touchCounter) Touch(ctx context.Context, key string, ttl time.Duration) error {
	c.n.Add(1)
	return c.Store.Touch(ctx, key, ttl)
}

// readUntil loads and saves id unchanged with four workers until done.
func readUntil(m *core.Manager, id string, done <-chan struct{}) peerResult {
	var r results
	parallel(4, func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			r.note(save(context.Background(), m, id, func(*core.Session) {}), "")
		}
	})
	return r.result()
}

// keyNames returns n key names that start with prefix.
func keyNames(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return keys
}

// checkKeys checks that s holds every key acknowledged to either process,
// and that all want of them were.
func checkKeys(t *testing.T, s *core.Session, want int, results ...peerResult) {
	t.Helper()
	acked, lost := 0, 0
	for _, r := range results {
		for _, key := range r.Keys {
			acked++
			if _, ok := s.Get(key); !ok {
				lost++
				t.Errorf("key %s was acknowledged and lost", key)
			}
		}
	}
	t.Logf("%d of %d acknowledged keys kept (%d of %d acknowledged)", acked-lost, acked, acked, want)
	if acked != want {
		t.Errorf("%d of %d keys acknowledged", acked, want)
	}
}

// TestProcessesLogout has the peer increment a session with four workers
// while this process deletes it (logout), ten times: once the delete is
// acknowledged, the session must never load again, neither while the
// peer's saves are in flight nor after.
func TestProcessesLogout(t *testing.T) {
	endRounds(t, func(s *core.Session) { s.Destroy() }, nil)
}

// TestProcessesLogin is TestProcessesLogout with a login instead, which
// moves the session to a new id (Regenerate): the old id must not load
// again, and the new one must hold every increment acknowledged to the
// peer, all of which were made to the old id before it was deleted.
func TestProcessesLogin(t *testing.T) {
	login := func(s *core.Session) { s.Set("user", "bob"); s.Regenerate() }
	endRounds(t, login, func(t *testing.T, m *core.Manager, s *core.Session, peer peerResult) {
		if n, _ := load(t, m, s.ID()).GetInt("n"); n != int64(peer.Acked) {
			t.Errorf("the session after login counts %d of the %d increments acknowledged before", n, peer.Acked)
		}
	})
}

// endRounds ends a session the peer increments, with end and a save, ten
// times, and checks that the old id never loads again once the save is
// acknowledged; then check, if any, looks at the session saved.
func endRounds(t *testing.T, end func(*core.Session), check func(*testing.T, *core.Manager, *core.Session, peerResult)) {
	const rounds = 10
	ps := startProcesses(t)
	m := peerManager(ps.store, false)
	revived, acked := 0, 0
	for round := range rounds {
		id := backendtest.SaveNew(t, m, map[string]any{"n": 0})
		ps.peer.send(t, peerCommand{Role: "incr-until-gone", ID: id, Workers: 4})
		done, answer := ps.peer.answer(t)
		waitForIncrements(t, m, id, 3)
		s := load(t, m, id)
		end(s)
		if _, err := m.Save(context.Background(), s); err != nil {
			t.Fatalf("round %d: the save that ends the session: %v", round, err)
		}
		back := watchGone(m, id, done)
		peer := answer()
		acked += peer.Acked
		if s, err := m.Load(context.Background(), id); err != nil || !s.IsNew() {
			back = true
		}
		if back {
			revived++
			t.Errorf("round %d: the ended session loads again", round)
		}
		if check != nil {
			check(t, m, s, peer)
		}
	}
	t.Logf("%d of %d ended sessions revived; the peer's saves acknowledged %d increments", revived, rounds, acked)
}

// watchGone loads id until done and reports whether any load found the
// session.
func watchGone(m *core.Manager, id string, done <-chan struct{}) bool {
	for back := false; ; {
		select {
		case <-done:
			return back
		default:
		}
		s, err := m.Load(context.Background(), id)
		back = back || err != nil || !s.IsNew()
	}
}

// waitForIncrements waits until the session id holds a counter of at
// least n, so that the peer's saves are under way.
func waitForIncrements(t *testing.T, m *core.Manager, id string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got, _ := load(t, m, id).GetInt("n"); got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the peer did not increment the session %d times within 10s", n)
}
