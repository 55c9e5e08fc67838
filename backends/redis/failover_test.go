package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// healLimit is how soon after a replica's promotion the Store must serve
// the slots of the master it replaced.
const healLimit = 5 * time.Second

// TestClusterFailover kills (SIGKILL) a master of a Cluster of 3 masters
// and 3 replicas the test started itself, under a Store made by Open from
// a Cluster URL, and checks that the keys on the dead master's slots are
// readable and writable through the Store within healLimit of its
// replica's promotion. It then kills another master under a Store whose
// URL says reload_on_failure=off, and checks that its keys are still out
// of reach healLimit+1s after the promotion: the reloads are what heals.
// It is not parallel: it measures outages.
func TestClusterFailover(t *testing.T) {
	slowFailovers(t)
	c := startReplicatedCluster(t)
	seeds := "redis+cluster://" + strings.Join(c.addrs(), ",")
	store := openURL(t, seeds)
	keys := make(map[string]string, 200)
	for i := range 200 {
		keys[fmt.Sprintf("cloakroomtest:failover:%03d", i)] = fmt.Sprint("initial ", i)
	}
	for k, v := range keys {
		if err := store.Set(context.Background(), k, []byte(v), time.Hour); err != nil {
			t.Fatalf("Set %s: %v", k, err)
		}
	}

	first := c.shardOf(t, anyKey(keys))
	onFirst := c.keysOn(t, first, keys)
	run := c.failover(t, store, first, onFirst, healLimit)
	t.Logf("reload_on_failure default (%v): %s", DefaultReloadOnFailure, run)
	if run.answered < 0 || run.answered > healLimit {
		t.Fatalf("keys of the dead master %s not served within %v of the promotion: %s", first.master, healLimit, run)
	}
	checkKeys(t, store, run, onFirst)
	_ = store.Close()

	off := openURL(t, seeds+"?"+reloadParam+"=off")
	second := c.shardOf(t, c.keyOnOtherShard(t, first, keys))
	run = c.failover(t, off, second, c.keysOn(t, second, keys), healLimit+time.Second)
	t.Logf("reload_on_failure=off: %s", run)
	if run.ok > 0 {
		t.Fatalf("with reload_on_failure=off the keys of %s were served again: %s", second.master, run)
	}
}

// openURL opens a Store from raw with default Options, closed when the test
// ends.
func openURL(t *testing.T, raw string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := Open(ctx, raw, Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", raw, err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

func anyKey(keys map[string]string) string {
	for k := range keys {
		return k
	}
	return ""
}

// checkKeys reads every key of keys through store, wanting the value it
// was given, and writes it again, all within healLimit of the promotion
// that run recorded.
func checkKeys(t *testing.T, store *Store, run failoverRun, keys map[string]string) {
	t.Helper()
	ctx := context.Background()
	for k, v := range keys {
		got, err := store.Get(ctx, k)
		if err != nil || string(got) != v {
			t.Errorf("Get %s after the failover = %q, %v; want %q", k, got, err, v)
		}
		if err := store.Set(ctx, k, []byte(v+" again"), time.Hour); err != nil {
			t.Errorf("Set %s after the failover: %v", k, err)
		}
	}
	if took := time.Since(run.promotedAt); took > healLimit {
		t.Errorf("the %d keys of the dead master were all read and written %v after the promotion, want %v",
			len(keys), took.Round(time.Millisecond), healLimit)
	}
	t.Logf("all %d keys of the dead master read and written %v after the promotion",
		len(keys), time.Since(run.promotedAt).Round(time.Millisecond))
}

// testCluster is a Cluster of masters with one replica each, every node a
// redis-server the test started and stops.
type testCluster struct {
	nodes map[string]*ownRedis // by address
	admin map[string]*goredis.Client
}

// startReplicatedCluster starts 6 nodes with a 1 s node timeout, joins them
// into 3 masters and 3 replicas with redis-cli, and waits until every node
// says the Cluster is ok and every replica has synchronised.
func startReplicatedCluster(t *testing.T) *testCluster {
	t.Helper()
	bin := redisBinary(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		backendtest.Unavailable(t, "redis-cli binary (apt-get install redis-tools)", err)
	}
	c := &testCluster{nodes: map[string]*ownRedis{}, admin: map[string]*goredis.Client{}}
	for range 6 {
		srv := startClusterNode(t, bin)
		c.nodes[srv.addr] = srv
		admin := goredis.NewClient(&goredis.Options{Addr: srv.addr, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
		t.Cleanup(func() { _ = admin.Close() })
		c.admin[srv.addr] = admin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, c.addrs()...), "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitUntil(t, "cluster ok with a synchronised replica per master", 20*time.Second, c.ready)
	return c
}

// startClusterNode starts a cluster-enabled redis-server on free ports (its
// bus port chosen too, as port+10000 may be taken or out of range).
func startClusterNode(t *testing.T, bin string) *ownRedis {
	t.Helper()
	_, port, _ := net.SplitHostPort(backendtest.ClosedAddr(t))
	_, bus, _ := net.SplitHostPort(backendtest.ClosedAddr(t))
	srv := startRedisOn(t, bin, port, t.TempDir(),
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "1000", "--cluster-port", bus,
		// Replicas synchronise at once instead of after 5 s.
		"--repl-diskless-sync-delay", "0")
	t.Cleanup(srv.stop)
	return srv
}

func (c *testCluster) addrs() []string {
	addrs := make([]string, 0, len(c.nodes))
	for addr := range c.nodes {
		addrs = append(addrs, addr)
	}
	return addrs
}

// alive returns the admin client of a node that still runs.
func (c *testCluster) alive() *goredis.Client {
	for addr, srv := range c.nodes {
		select {
		case <-srv.done:
		default:
			return c.admin[addr]
		}
	}
	return nil
}

// ready checks that every node says cluster_state:ok and that each shard
// has a replica whose link to its master is up.
func (c *testCluster) ready(ctx context.Context) error {
	for addr, admin := range c.admin {
		info, err := admin.ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: cluster info %v", addr, err)
		}
	}
	shards, err := c.shards(ctx)
	if err != nil {
		return err
	}
	if len(shards) != 3 {
		return fmt.Errorf("%d shards with a replica, want 3", len(shards))
	}
	for _, s := range shards {
		role, err := c.admin[s.replica].Do(ctx, "ROLE").Slice()
		if err != nil || len(role) < 4 || role[3] != "connected" {
			return fmt.Errorf("replica %s: role %v %v", s.replica, role, err)
		}
	}
	return nil
}

// shard is a master, its replica and the slot ranges it serves.
type shard struct {
	master, replica string
	ranges          [][2]int
}

// shards returns the shards whose master and a replica are online, by
// master address, as a live node sees them.
func (c *testCluster) shards(ctx context.Context) (map[string]*shard, error) {
	all, err := c.alive().ClusterShards(ctx).Result()
	if err != nil {
		return nil, err
	}
	shards := map[string]*shard{}
	for _, cs := range all {
		s := &shard{}
		for _, n := range cs.Nodes {
			addr := net.JoinHostPort(n.IP, fmt.Sprint(n.Port))
			switch {
			case n.Health != "online":
			case n.Role == "master":
				s.master = addr
			case s.replica == "":
				s.replica = addr
			}
		}
		for _, r := range cs.Slots {
			s.ranges = append(s.ranges, [2]int{int(r.Start), int(r.End)})
		}
		if s.master != "" && s.replica != "" && len(s.ranges) > 0 {
			shards[s.master] = s
		}
	}
	return shards, nil
}

// shardOf returns the shard, with a replica, that holds key. It waits up
// to 10 s for one: on a loaded machine a node may see another as failing
// for a moment (the node timeout is 1 s), and CLUSTER SHARDS then lists
// that shard without its replica.
func (c *testCluster) shardOf(t *testing.T, key string) *shard {
	t.Helper()
	slot := c.slot(t, key)
	var found *shard
	waitUntil(t, fmt.Sprintf("a shard with a replica holding slot %d", slot), 10*time.Second, func(ctx context.Context) error {
		shards, err := c.shards(ctx)
		if err != nil {
			return err
		}
		for _, s := range shards {
			if s.holds(slot) {
				found = s
				return nil
			}
		}
		return fmt.Errorf("none among %d shards", len(shards))
	})
	return found
}

func (s *shard) holds(slot int) bool {
	for _, r := range s.ranges {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

func (c *testCluster) slot(t *testing.T, key string) int {
	t.Helper()
	slot, err := c.alive().ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
	}
	return int(slot)
}

// keysOn returns the keys of keys that s holds.
func (c *testCluster) keysOn(t *testing.T, s *shard, keys map[string]string) map[string]string {
	t.Helper()
	on := map[string]string{}
	for k, v := range keys {
		if s.holds(c.slot(t, k)) {
			on[k] = v
		}
	}
	if len(on) == 0 {
		t.Fatalf("no key on %s", s.master)
	}
	return on
}

// keyOnOtherShard returns a key of keys that s does not hold and whose
// shard still has a replica.
func (c *testCluster) keyOnOtherShard(t *testing.T, s *shard, keys map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shards, err := c.shards(ctx)
	if err != nil {
		t.Fatalf("CLUSTER SLOTS: %v", err)
	}
	for k := range keys {
		slot := c.slot(t, k)
		for _, other := range shards {
			if other.master != s.master && other.master != s.replica && other.holds(slot) {
				return k
			}
		}
	}
	t.Fatal("no key on another shard with a replica")
	return ""
}

// failoverRun is what failover measured.
type failoverRun struct {
	promotedAt time.Time
	promotion  time.Duration // from the kill to the replica's promotion
	// From the promotion to the start of the first probe of the
	// unbroken run of good probes that ended the watch, and to its
	// answer; both < 0 when the watch ended on failures.
	healed, answered time.Duration
	ok, failed       int // probes started after the kill
	lastErr          error
}

func (r failoverRun) String() string {
	outage := "outage after the promotion: still failing"
	if r.answered >= 0 {
		outage = fmt.Sprintf("outage after the promotion: %v (every probe sent from %+v on succeeded, the first answered at %+v)",
			max(r.answered, 0).Round(time.Millisecond), r.healed.Round(time.Millisecond), r.answered.Round(time.Millisecond))
	}
	return fmt.Sprintf("replica promoted %v after the kill; %s; %d probes failed, %d succeeded; last error: %v",
		r.promotion.Round(time.Millisecond), outage, r.failed, r.ok, r.lastErr)
}

// healRun is how many probes in a row must succeed for the slots to count
// as served again.
const healRun = 5

// probeResult is the outcome of one probe.
type probeResult struct {
	start, end time.Time
	err        error
	done       bool
}

// failover waits until s's replica has every key of keys, kills s's master
// and, while another goroutine polls the replica's ROLE for its promotion,
// starts a probe through store every 50 ms, each on a key of its own in
// the slot of one of keys, without waiting for the probes before it: a
// probe that fails can take the Store's whole timeout, and requests keep
// coming meanwhile. It stops once the last healRun probes succeeded after
// the promotion, or give after the promotion, and fails the test if the
// promotion takes over 15 s.
func (c *testCluster) failover(t *testing.T, store *Store, s *shard, keys map[string]string, give time.Duration) failoverRun {
	t.Helper()
	c.waitSynchronised(t, s)
	var bases []string
	for k := range keys {
		bases = append(bases, k)
	}
	var (
		mu      sync.Mutex
		results []probeResult
		wg      sync.WaitGroup
	)
	killed := time.Now()
	c.nodes[s.master].stop() // SIGKILL
	promoted := watchPromotion(t, c.admin[s.replica])
	var promotedAt time.Time
	for i := 0; ; i++ {
		if promotedAt.IsZero() {
			select {
			case promotedAt = <-promoted:
			default:
			}
		}
		mu.Lock()
		healed := healedTail(results) >= healRun
		mu.Unlock()
		if !promotedAt.IsZero() && (healed || time.Since(promotedAt) > give) {
			break
		}
		if promotedAt.IsZero() && time.Since(killed) > 15*time.Second {
			wg.Wait()
			t.Fatalf("replica %s not promoted within 15s of the kill", s.replica)
		}
		mu.Lock()
		results = append(results, probeResult{start: time.Now()})
		mu.Unlock()
		key := fmt.Sprintf("{%s}:probe:%d", bases[i%len(bases)], i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := probe(store, key)
			mu.Lock()
			defer mu.Unlock()
			results[i].end, results[i].err, results[i].done = time.Now(), err, true
		}()
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	return summarise(results, killed, promotedAt)
}

// waitSynchronised waits until s's replica has as many keys as its master,
// so that the kill loses none of the keys the test wrote before it.
func (c *testCluster) waitSynchronised(t *testing.T, s *shard) {
	t.Helper()
	waitUntil(t, "replica "+s.replica+" synchronised", 10*time.Second, func(ctx context.Context) error {
		m, err1 := c.admin[s.master].DBSize(ctx).Result()
		r, err2 := c.admin[s.replica].DBSize(ctx).Result()
		if err := errors.Join(err1, err2); err != nil || m != r {
			return fmt.Errorf("master has %d keys, replica %d: %v", m, r, err)
		}
		return nil
	})
}

// healedTail returns how many of the last results succeeded in a row.
func healedTail(results []probeResult) int {
	n := 0
	for i := len(results) - 1; i >= 0 && results[i].done && results[i].err == nil; i-- {
		n++
	}
	return n
}

// summarise counts results, all done, and times the unbroken run of good
// probes that ends them from promotedAt.
func summarise(results []probeResult, killed, promotedAt time.Time) failoverRun {
	run := failoverRun{promotedAt: promotedAt, promotion: promotedAt.Sub(killed), healed: -1, answered: -1}
	for _, r := range results {
		if r.err != nil {
			run.failed++
			run.lastErr = r.err
		} else {
			run.ok++
		}
	}
	if n := healedTail(results); n > 0 {
		first := results[len(results)-n]
		run.healed, run.answered = first.start.Sub(promotedAt), first.end.Sub(promotedAt)
	}
	return run
}

// probe writes a value to key through store and reads it back.
func probe(store *Store, key string) error {
	ctx := context.Background()
	want := "probe of " + key
	if err := store.Set(ctx, key, []byte(want), time.Minute); err != nil {
		return err
	}
	got, err := store.Get(ctx, key)
	if err == nil && string(got) != want {
		err = fmt.Errorf("read %q after writing %q", got, want)
	}
	if errors.Is(err, core.ErrNotFound) {
		err = fmt.Errorf("lost the write: %w", err)
	}
	return err
}

// watchPromotion polls replica's ROLE every 20 ms until it says master and
// sends the time it first did. It stops when the test ends.
func watchPromotion(t *testing.T, replica *goredis.Client) <-chan time.Time {
	ctx, cancel := context.WithCancel(context.Background())
	promoted := make(chan time.Time, 1)
	stopped := make(chan struct{})
	t.Cleanup(func() { cancel(); <-stopped })
	go func() {
		defer close(stopped)
		for ctx.Err() == nil {
			role, err := replica.Do(ctx, "ROLE").Slice()
			if err == nil && len(role) > 0 && role[0] == "master" {
				promoted <- time.Now()
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return promoted
}

// waitUntil retries cond, each try bounded by a second, until it returns
// nil, and fails the test after limit.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
