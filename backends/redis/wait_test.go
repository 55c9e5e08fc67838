package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

func TestTakeWait(t *testing.T) {
	for _, tc := range []struct {
		url      string
		replicas int
		timeout  time.Duration
		rest     string
		bad      bool
	}{
		{url: "redis://h:1/0", rest: "redis://h:1/0"},
		{url: "redis://h:1?wait_replicas=1", replicas: 1, rest: "redis://h:1"},
		{url: "redis://h:1?wait_replicas=2&wait_timeout=50ms&pool_size=3", replicas: 2, timeout: 50 * time.Millisecond, rest: "redis://h:1?pool_size=3"},
		{url: "redis+sentinel://h:1?master_name=m&wait_replicas=1", replicas: 1, rest: "redis+sentinel://h:1?master_name=m"},
		{url: "redis://h:1?wait_replicas=-1", bad: true},
		{url: "redis://h:1?wait_replicas=one", bad: true},
		{url: "redis://h:1?wait_timeout=0", bad: true},
		{url: "redis://h:1?wait_timeout=soon", bad: true},
	} {
		var opts Options
		rest, err := takeWait(tc.url, &opts)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "wait_") {
				t.Errorf("takeWait(%q) = %v, want an error naming the parameter", tc.url, err)
			}
			continue
		}
		if err != nil || rest != tc.rest || opts.WaitReplicas != tc.replicas || opts.WaitTimeout != tc.timeout {
			t.Errorf("takeWait(%q) = %q, %d, %v, %v; want %q, %d, %v", tc.url, rest, opts.WaitReplicas, opts.WaitTimeout, err,
				tc.rest, tc.replicas, tc.timeout)
		}
	}
	if n, d := waitSettings(Options{WaitReplicas: 1}); n != 1 || d != DefaultWaitTimeout {
		t.Errorf("waitSettings(1 replica) = %d, %v; want 1, %v", n, d, DefaultWaitTimeout)
	}
	if n, _ := waitSettings(Options{WaitTimeout: time.Second}); n != 0 {
		t.Errorf("waitSettings(no replica) = %d, want 0", n)
	}
}

// TestWaitReplicas opens a Store with wait_replicas=1 on a server the test
// started without a replica: every write is made but fails with
// ErrNotReplicated (a 503 through a Manager), while refused conditional
// writes fail as usual. Once a replica follows the server, the writes
// succeed, also after SCRIPT FLUSH (NOSCRIPT in the pipeline).
func TestWaitReplicas(t *testing.T) {
	t.Parallel()
	master := startOwnRedis(t, replicationArgs...)
	store := openURL(t, "redis://"+master.addr+"?wait_replicas=1&wait_timeout=20ms")
	ctx := context.Background()
	key := "cloakroomtest:wait:k"
	wantShort := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrNotReplicated) || !strings.Contains(err.Error(), "0 of 1 replicas") || !strings.Contains(err.Error(), `"`+key+`"`) {
			t.Errorf("%s without a replica: %v, want ErrNotReplicated saying 0 of 1 replicas and naming the key", what, err)
		}
	}
	wantShort("Set", store.Set(ctx, key, []byte("a"), time.Minute))
	if got, err := store.Get(ctx, key); err != nil || string(got) != "a" {
		t.Fatalf("Get after a Set that was not replicated = %q, %v; want the write made on the master", got, err)
	}
	wantShort("SetIf", store.SetIf(ctx, key, core.Version("a"), []byte("b"), time.Minute))
	if err := store.SetIf(ctx, key, core.Version("a"), []byte("c"), time.Minute); !errors.Is(err, core.ErrConflict) || errors.Is(err, ErrNotReplicated) {
		t.Errorf("SetIf with a stale version: %v, want only ErrConflict", err)
	}
	if err := store.SetIf(ctx, key, nil, []byte("c"), time.Minute); !errors.Is(err, core.ErrConflict) {
		t.Errorf("SetIf(nil) on a key that exists: %v, want ErrConflict", err)
	}
	wantShort("DeleteIf", store.DeleteIf(ctx, key, core.Version("b")))
	wantShort("SetIf(nil)", store.SetIf(ctx, key, nil, []byte("d"), time.Minute))
	wantShort("Delete", store.Delete(ctx, key))
	if err := store.Delete(ctx, key); err != nil {
		t.Errorf("Delete of an absent key: %v, want nil (nothing written)", err)
	}
	if err := store.Touch(ctx, "cloakroomtest:wait:absent", time.Minute); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Touch: %v, want ErrNotFound (Touch does not wait)", err)
	}

	m := core.NewManager(store)
	s := m.New(ctx)
	s.Set("user", "u1")
	_, err := m.Save(ctx, s)
	if !errors.Is(err, core.ErrBackend) || !errors.Is(err, ErrNotReplicated) || core.HTTPStatus(err) != http.StatusServiceUnavailable {
		t.Errorf("Manager.Save without a replica: %v (status %d), want ErrBackend and ErrNotReplicated, 503", err, core.HTTPStatus(err))
	}
	if strings.Contains(fmt.Sprint(err), s.ID()) {
		t.Errorf("Manager.Save's error shows the session id: %v", err)
	}
	t.Logf("Manager.Save without a replica: %v", err)

	host, port, _ := net.SplitHostPort(master.addr)
	replica := startOwnRedis(t, append(slices.Clone(replicationArgs), "--replicaof", host, port)...)
	waitReplicaLinked(t, replica.addr)
	waitReplicaAcks(t, master.addr, probeKey)
	if err := store.Set(ctx, key, []byte("e"), time.Minute); err != nil {
		t.Fatalf("Set with a replica: %v", err)
	}
	admin := goredis.NewClient(&goredis.Options{Addr: master.addr})
	defer admin.Close()
	if err := admin.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := store.SetIf(ctx, key, core.Version("e"), []byte("f"), time.Minute); err != nil {
		t.Fatalf("SetIf with a replica, after SCRIPT FLUSH: %v", err)
	}
	if err := store.DeleteIf(ctx, key, core.Version("f")); err != nil {
		t.Fatalf("DeleteIf with a replica: %v", err)
	}
	if _, err := m.Save(ctx, s); err != nil {
		t.Fatalf("Manager.Save with a replica: %v", err)
	}
}

// replicationArgs make a server start a replica's synchronisation at once.
var replicationArgs = []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}

// waitReplicaLinked waits until the server at addr is a replica whose link
// to its master is up.
func waitReplicaLinked(t *testing.T, addr string) {
	t.Helper()
	admin := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer admin.Close()
	waitUntil(t, "replica "+addr+" linked", 20*time.Second, func(ctx context.Context) error {
		role, err := admin.Do(ctx, "ROLE").Slice()
		if err != nil || len(role) < 4 || role[0] != "slave" || role[3] != "connected" {
			return fmt.Errorf("role %v %v", role, err)
		}
		return nil
	})
}

// waitReplicaAcks waits until a replica of the master at addr
// acknowledges a write (a SET, then WAIT 1 on the same connection answers
// 1; key must live on that master): a replica says it is linked before the master streams writes to it
// and counts it. A WAIT on a connection that wrote nothing proves nothing.
func waitReplicaAcks(t *testing.T, addr, key string) {
	t.Helper()
	admin := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer admin.Close()
	waitUntil(t, "a replica of "+addr+" acknowledges writes", 25*time.Second, func(ctx context.Context) error {
		var wait *goredis.IntCmd
		_, err := admin.Pipelined(ctx, func(p goredis.Pipeliner) error {
			p.Set(ctx, key, "x", time.Minute)
			wait = goredis.NewIntCmd(ctx, "WAIT", 1, 100)
			return p.Process(ctx, wait)
		})
		if n := wait.Val(); err != nil || n < 1 {
			return fmt.Errorf("SET, WAIT 1: %d %v", n, err)
		}
		return nil
	})
}

// probeKey is the key waitReplicaAcks writes outside a Cluster.
const probeKey = "cloakroomtest:wait:probe"

// sentinelSet is a master, its replica and a Sentinel watching them, all
// started by the test; the servers can be restarted on their ports.
type sentinelSet struct {
	name     string
	bin      string
	servers  map[string]*ownRedis // by address
	dirs     map[string]string
	sentinel *ownRedis
	client   *goredis.SentinelClient
	extra    []string // arguments of every server
}

// startSentinelSet starts a master and a replica, waits until the replica
// is linked, then starts a Sentinel (quorum 1, down-after 1000 ms), which
// learns of the replica from the master at once.
func startSentinelSet(t *testing.T, name string, extra ...string) *sentinelSet {
	t.Helper()
	ss := &sentinelSet{name: name, bin: redisBinary(t), servers: map[string]*ownRedis{}, dirs: map[string]string{}, extra: extra}
	master := ss.start(t, backendtest.ClosedAddr(t))
	host, port, _ := net.SplitHostPort(master.addr)
	replica := ss.start(t, backendtest.ClosedAddr(t), "--replicaof", host, port)
	waitReplicaLinked(t, replica.addr)
	waitReplicaAcks(t, master.addr, probeKey)

	addr := backendtest.ClosedAddr(t)
	_, sport, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\n"+
		"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 10000\n",
		sport, dir, name, host, port, name, name)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ss.sentinel = launchRedis(t, ss.bin, addr, conf, "--sentinel")
	t.Cleanup(ss.sentinel.stop)
	ss.client = goredis.NewSentinelClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = ss.client.Close() })
	ss.waitReplicaGood(t, replica.addr)
	return ss
}

// waitReplicaGood waits until the Sentinel sees addr as a replica whose
// link to the master is up: only such a replica can be promoted, and the
// Sentinel reads a replica's state only every 10 s.
func (ss *sentinelSet) waitReplicaGood(t *testing.T, addr string) {
	t.Helper()
	waitUntil(t, "sentinel sees replica "+addr+" linked", 25*time.Second, func(ctx context.Context) error {
		replicas, err := ss.client.Replicas(ctx, ss.name).Result()
		for _, r := range replicas {
			if net.JoinHostPort(r["ip"], r["port"]) == addr && r["flags"] == "slave" && r["master-link-status"] == "ok" {
				return nil
			}
		}
		return fmt.Errorf("replicas %v %v", replicas, err)
	})
}

// start starts a server on addr, in the directory it had if it ran
// before, and stops it when the test ends.
func (ss *sentinelSet) start(t *testing.T, addr string, extra ...string) *ownRedis {
	t.Helper()
	dir, ok := ss.dirs[addr]
	if !ok {
		dir = t.TempDir()
		ss.dirs[addr] = dir
	}
	_, port, _ := net.SplitHostPort(addr)
	args := append(append(slices.Clone(replicationArgs), ss.extra...), extra...)
	srv := startRedisOn(t, ss.bin, port, dir, args...)
	t.Cleanup(srv.stop)
	// Another server that took the port first would have answered the
	// ping: make sure this one runs, lest the test watch someone else's.
	time.Sleep(50 * time.Millisecond)
	select {
	case <-srv.done:
		t.Fatalf("redis-server for %s exited: port taken?", addr)
	default:
	}
	ss.servers[addr] = srv
	return srv
}

func (ss *sentinelSet) url(query string) string {
	return "redis+sentinel://" + ss.sentinel.addr + "?master_name=" + ss.name + query
}

// master returns the master's address as the Sentinel names it.
func (ss *sentinelSet) master(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := ss.client.GetMasterAddrByName(ctx, ss.name).Result()
	if err != nil || len(got) != 2 {
		t.Fatalf("SENTINEL GET-MASTER-ADDR-BY-NAME: %v %v", got, err)
	}
	return net.JoinHostPort(got[0], got[1])
}

// waitFollowed waits until the master the Sentinel names has its other
// server for a replica, linked in the Sentinel's eyes and acknowledging
// writes. Under load the Sentinel may fail over once more on its own (a
// server slow to answer for a second); this follows whichever is master.
// With promotable, it also waits until the Sentinel sees the replica
// linked, which SENTINEL FAILOVER needs: the Sentinel reads a replica's
// state only every 10 s.
func (ss *sentinelSet) waitFollowed(t *testing.T, promotable bool) {
	t.Helper()
	waitReplicaAcks(t, ss.master(t), probeKey)
	if promotable {
		master := ss.master(t)
		for addr := range ss.servers {
			if addr != master {
				ss.waitReplicaGood(t, addr)
			}
		}
	}
}

// waitSwitch waits until the Sentinel names a master other than old and
// has ended the failover, and returns the new master. (During a failover
// the Sentinel names the promoted replica already.)
func (ss *sentinelSet) waitSwitch(t *testing.T, old string) string {
	t.Helper()
	var now string
	waitUntil(t, "sentinel names a new master", 20*time.Second, func(ctx context.Context) error {
		got, err := ss.client.GetMasterAddrByName(ctx, ss.name).Result()
		if err != nil || len(got) != 2 {
			return fmt.Errorf("%v %v", got, err)
		}
		if now = net.JoinHostPort(got[0], got[1]); now == old {
			return errors.New("still the old master")
		}
		m, err := ss.client.Master(ctx, ss.name).Result()
		if err != nil || net.JoinHostPort(m["ip"], m["port"]) != now || strings.Contains(m["flags"], "failover") {
			return fmt.Errorf("failover not ended: %v %v", m, err)
		}
		return nil
	})
	return now
}

// haLoad is a workload on a Manager: workers that increment a counter in
// shared sessions, each recording the values their saves acknowledged,
// and a login loop that creates sessions, recording those acknowledged.
type haLoad struct {
	m   *core.Manager
	ids []string

	mu       sync.Mutex
	acked    map[string]int64 // highest value acknowledged, by session id
	incrs    map[string]int64 // increments acknowledged, by session id
	logins   []string         // sessions whose creation was acknowledged
	vanished map[string]bool  // sessions that a load no longer found
	saves    int              // acknowledged writes
	failed   int              // failed loads and saves
	lastErr  error
	oks      []time.Time // when each acknowledged write answered
}

const (
	haSessions = 50
	haWorkers  = 8
)

func newHALoad(t *testing.T, store *Store) *haLoad {
	t.Helper()
	l := &haLoad{m: core.NewManager(store), acked: map[string]int64{}, incrs: map[string]int64{}, vanished: map[string]bool{}}
	ctx := context.Background()
	for range haSessions {
		s := l.m.New(ctx)
		s.Set("n", int64(0))
		if _, err := l.m.Save(ctx, s); err != nil {
			t.Fatalf("save a session before the fault: %v", err)
		}
		l.ids = append(l.ids, s.ID())
		l.acked[s.ID()] = 0
	}
	return l
}

// run runs the workload until stop is closed.
func (l *haLoad) run(stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range haWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l.increment(l.ids[(w*7+i)%len(l.ids)])
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			l.login(i)
		}
	}()
	return &wg
}

func (l *haLoad) increment(id string) {
	ctx := context.Background()
	s, err := l.m.Load(ctx, id)
	if err == nil && s.ID() != id {
		l.mu.Lock()
		l.vanished[id] = true
		l.mu.Unlock()
		time.Sleep(time.Millisecond)
		return
	}
	var n int64
	if err == nil {
		n, err = s.IncrNow(ctx, "n", 1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed++
		l.lastErr = err
		return
	}
	l.saves++
	l.oks = append(l.oks, time.Now())
	l.acked[id] = max(l.acked[id], n)
	l.incrs[id]++
}

func (l *haLoad) login(i int) {
	ctx := context.Background()
	s := l.m.New(ctx)
	s.Set("user", fmt.Sprint("user-", i))
	_, err := l.m.Save(ctx, s)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed++
		l.lastErr = err
		return
	}
	l.logins = append(l.logins, s.ID())
	l.oks = append(l.oks, time.Now())
}

// resumed waits until 50 writes were acknowledged after since, within 20
// seconds.
func (l *haLoad) resumed(t *testing.T, since time.Time) {
	t.Helper()
	waitUntil(t, "writes acknowledged again", 20*time.Second, func(context.Context) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		n := 0
		for _, ok := range slices.Backward(l.oks) {
			if !ok.After(since) {
				break
			}
			n++
		}
		if n < 50 {
			return fmt.Errorf("%d writes acknowledged", n)
		}
		return nil
	})
}

// haResult is what a workload lost.
type haResult struct {
	saves, failed      int
	outage             time.Duration // longest time without an acknowledged write
	lostIncrements     int64         // acknowledged increments missing at the end
	sessionsBehind     int           // sessions missing some
	increments         int64         // acknowledged increments
	logins, lostLogins int
	lastErr            error
}

func (r haResult) String() string {
	return fmt.Sprintf("%d acknowledged writes, %d failed (503), longest outage %v; lost: %d of %d acknowledged increments (in %d sessions), %d of %d logins; last error: %v",
		r.saves, r.failed, r.outage.Round(10*time.Millisecond), r.lostIncrements, r.increments, r.sessionsBehind, r.lostLogins, r.logins, r.lastErr)
}

// verify checks every session (check), logs what fault lost with option
// in force, and fails the test when the option, strict, promised no loss.
func (l *haLoad) verify(t *testing.T, store *Store, option, fault string, strict bool) {
	t.Helper()
	r := l.check(t, store)
	t.Logf("%s, %s: %s", option, fault, r)
	if strict && (r.lostIncrements > 0 || r.lostLogins > 0 || len(l.vanished) > 0) {
		t.Errorf("with %s, acknowledged writes were lost: %s; sessions vanished: %d", option, r, len(l.vanished))
	}
}

// check reads every session through a new Manager on store and counts
// what was acknowledged but is gone. It retries reads for a few seconds:
// the Store may still be reaching the new master.
func (l *haLoad) check(t *testing.T, store *Store) haResult {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := haResult{saves: l.saves, failed: l.failed, logins: len(l.logins), lastErr: l.lastErr}
	slices.SortFunc(l.oks, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(l.oks); i++ {
		r.outage = max(r.outage, l.oks[i].Sub(l.oks[i-1]))
	}
	m := core.NewManager(store)
	load := func(id string) *core.Session {
		var err error
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var s *core.Session
			if s, err = m.Load(context.Background(), id); err == nil {
				return s
			}
		}
		t.Fatalf("load a session after the fault: %v", err)
		return nil
	}
	for _, id := range l.ids {
		s := load(id)
		n, _ := s.GetInt("n")
		if s.ID() != id {
			n = 0
		}
		// Each acknowledged increment added one to what the session held
		// (the conditional writes compose them), so a session that lost
		// none holds at least their number, and at least the highest
		// value any of them returned.
		r.increments += l.incrs[id]
		if want := max(l.acked[id], l.incrs[id]); n < want {
			r.lostIncrements += want - n
			r.sessionsBehind++
		}
	}
	for _, id := range l.logins {
		if s := load(id); s.ID() != id {
			r.lostLogins++
		}
	}
	return r
}

// slowFailovers skips the failover tests (these and TestClusterFailover)
// unless CLOAKROOM_REDIS_FAILOVERS=1: each takes 13 to 60 s of Sentinel or
// Cluster timing on servers of its own, and their set-up still fails now
// and then on a loaded machine (a Sentinel that sees its replica late, a
// node that a 1 s node timeout marks failing for a moment), which make
// test cannot afford.
func slowFailovers(t *testing.T) {
	t.Helper()
	if os.Getenv("CLOAKROOM_REDIS_FAILOVERS") == "" {
		t.Skip("set CLOAKROOM_REDIS_FAILOVERS=1 to run the failover tests")
	}
}

// TestSentinelFailoverLosesNoWrite runs the workload on a master, its
// replica and a Sentinel through a Store opened with wait_replicas=1,
// forces two graceful failovers (SENTINEL FAILOVER), each once the old
// master follows the new one, and checks that every acknowledged
// increment and login survived. It then does the same without the option,
// and (with CLOAKROOM_REDIS_FAILOVERS=min-replicas) with min-replicas-to-write 1
// on the servers instead, and reports what was lost, without asserting a
// loss: it depends on timing.
func TestSentinelFailoverLosesNoWrite(t *testing.T) {
	slowFailovers(t)
	for _, tc := range []struct {
		name, query string
		strict      bool
		server      []string
	}{
		{"wait_replicas=1", "&wait_replicas=1&wait_timeout=200ms", true, nil},
		{"without", "", false, nil},
		// The server-side alternative, for the README's figures; it
		// bounds the loss without preventing it, and adds 23 s.
		{"min-replicas-to-write", "", false, []string{"--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.server != nil && os.Getenv("CLOAKROOM_REDIS_FAILOVERS") != "min-replicas" {
				t.Skip("set CLOAKROOM_REDIS_FAILOVERS=min-replicas to measure min-replicas-to-write too")
			}
			ss := startSentinelSet(t, "ha", tc.server...)
			store := openURL(t, ss.url(tc.query))
			l := newHALoad(t, store)
			stop := make(chan struct{})
			wg := l.run(stop)
			time.Sleep(300 * time.Millisecond)
			for round := range 2 {
				ss.waitFollowed(t, true)
				old := ss.master(t)
				start := time.Now()
				if err := ss.client.Failover(context.Background(), ss.name).Err(); err != nil {
					close(stop)
					wg.Wait()
					t.Fatalf("SENTINEL FAILOVER: %v", err)
				}
				now := ss.waitSwitch(t, old)
				switched := time.Since(start)
				t.Logf("failover %d: %s -> %s, the Sentinel switched after %v",
					round+1, old, now, switched.Round(10*time.Millisecond))
				if round == 0 || tc.strict {
					// The next failover needs a replica; with the
					// option, so do writes.
					ss.waitFollowed(t, false)
					t.Logf("failover %d: the master has a replica again %v after SENTINEL FAILOVER",
						round+1, time.Since(start).Round(10*time.Millisecond))
				}
				l.resumed(t, time.Now())
			}
			close(stop)
			wg.Wait()
			l.verify(t, store, tc.name, "graceful failover twice", tc.strict)
		})
	}
}

// TestSentinelCrashLosesNoWrite is TestSentinelFailoverLosesNoWrite with
// the master killed (SIGKILL) instead; once the Sentinel ended the
// failover, the old master is started again on its port, empty, as a
// supervisor would, and the Sentinel turns it into a replica of the new
// master. (Started sooner, while the Sentinel still fails over, it may
// become the master of the promoted replica instead, which empties it.)
// With wait_replicas=1 writes fail from the kill until then: the new
// master has no replica to acknowledge them.
func TestSentinelCrashLosesNoWrite(t *testing.T) {
	slowFailovers(t)
	for _, tc := range []struct {
		name, query string
		strict      bool
	}{
		{"wait_replicas=1", "&wait_replicas=1&wait_timeout=200ms", true},
		{"without", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := startSentinelSet(t, "crash")
			store := openURL(t, ss.url(tc.query))
			l := newHALoad(t, store)
			stop := make(chan struct{})
			wg := l.run(stop)
			time.Sleep(300 * time.Millisecond)
			old := ss.master(t)
			start := time.Now()
			ss.servers[old].stop() // SIGKILL
			now := ss.waitSwitch(t, old)
			t.Logf("crash: %s -> %s, the Sentinel switched %v after the kill",
				old, now, time.Since(start).Round(10*time.Millisecond))
			if tc.strict {
				// With the option, writes need a replica again.
				ss.start(t, old)
				ss.waitFollowed(t, false)
				t.Logf("crash: the master has a replica again (the old one, restarted) %v after the kill",
					time.Since(start).Round(10*time.Millisecond))
			}
			l.resumed(t, time.Now())
			close(stop)
			wg.Wait()
			l.verify(t, store, tc.name, "master killed", tc.strict)
		})
	}
}

// TestClusterMasterKillLosesNoWrite runs the workload on a Cluster of 3
// masters and 3 replicas through a Store opened with wait_replicas=1,
// kills (SIGKILL) the master of the first session's slot, waits for its
// replica's promotion, starts the dead node again on its port and files
// (it rejoins as a replica of the promoted one, as a restarted node does),
// and checks that every acknowledged increment and login survived.
func TestClusterMasterKillLosesNoWrite(t *testing.T) {
	slowFailovers(t)
	c := startReplicatedCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shards, err := c.shards(ctx)
	if err != nil {
		t.Fatalf("CLUSTER SHARDS: %v", err)
	}
	for master, sh := range shards {
		waitReplicaAcks(t, master, c.keyOn(t, sh))
	}
	store := openURL(t, "redis+cluster://"+strings.Join(c.addrs(), ",")+"?wait_replicas=1&wait_timeout=200ms")
	l := newHALoad(t, store)
	s := c.shardOf(t, l.m.KeyPrefix+l.ids[0])
	c.waitSynchronised(t, s)
	admin := c.admin[s.master]
	dir, err1 := admin.ConfigGet(ctx, "dir").Result()
	bus, err2 := admin.ConfigGet(ctx, "cluster-port").Result()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	wg := l.run(stop)
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	c.nodes[s.master].stop() // SIGKILL
	promoted := watchPromotion(t, c.admin[s.replica])
	select {
	case at := <-promoted:
		t.Logf("cluster: replica %s promoted %v after the kill of %s", s.replica, at.Sub(start).Round(10*time.Millisecond), s.master)
	case <-time.After(15 * time.Second):
		close(stop)
		wg.Wait()
		t.Fatalf("replica %s not promoted within 15s", s.replica)
	}
	_, port, _ := net.SplitHostPort(s.master)
	srv := startRedisOn(t, redisBinary(t), port, dir["dir"],
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "1000", "--cluster-port", bus["cluster-port"],
		"--repl-diskless-sync-delay", "0")
	t.Cleanup(srv.stop)
	c.nodes[s.master] = srv
	waitReplicaLinked(t, s.master)
	t.Logf("cluster: the killed master, restarted, follows the promoted one %v after the kill",
		time.Since(start).Round(10*time.Millisecond))
	l.resumed(t, time.Now())
	close(stop)
	wg.Wait()
	l.verify(t, store, "wait_replicas=1", "Cluster master killed", true)
}

// keyOn returns a key that s holds.
func (c *testCluster) keyOn(t *testing.T, s *shard) string {
	t.Helper()
	for i := range 1000 {
		if key := fmt.Sprint("cloakroomtest:wait:probe:", i); s.holds(c.slot(t, key)) {
			return key
		}
	}
	t.Fatalf("no key on %s", s.master)
	return ""
}
