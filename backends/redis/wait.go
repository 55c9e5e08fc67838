package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ErrNotReplicated is wrapped by the error of a write that the master made
// but that fewer replicas than Options.WaitReplicas acknowledged within
// Options.WaitTimeout. The write may survive or may be lost in a failover:
// it is not durable in the sense asked for, so the save fails, and a
// core.Manager reports it as a backend failure (core.ErrBackend, 503).
var ErrNotReplicated = errors.New("redis: write not acknowledged by enough replicas")

// DefaultWaitTimeout is how long a write waits for its replicas when
// Options.WaitReplicas is positive and Options.WaitTimeout is zero.
const DefaultWaitTimeout = 200 * time.Millisecond

// URL parameters of the replica wait, which go-redis's parsers do not know.
const (
	waitReplicasParam = "wait_replicas"
	waitTimeoutParam  = "wait_timeout"
)

// waitSettings reads the replica wait of opts: how many replicas, 0 for
// none, and WAIT's timeout, at least a millisecond (WAIT n 0 would block
// for ever).
func waitSettings(opts Options) (int, time.Duration) {
	if opts.WaitReplicas <= 0 {
		return 0, 0
	}
	timeout := opts.WaitTimeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	return opts.WaitReplicas, max(timeout, time.Millisecond)
}

// takeWait removes wait_replicas and wait_timeout from rawURL and sets them
// in opts: what the URL says wins. An URL that does not parse is returned
// as it is, for clientFromURL to report.
func takeWait(rawURL string, opts *Options) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL, nil
	}
	q := u.Query()
	if !q.Has(waitReplicasParam) && !q.Has(waitTimeoutParam) {
		return rawURL, nil
	}
	if q.Has(waitReplicasParam) {
		raw := q.Get(waitReplicasParam)
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return "", fmt.Errorf("%s=%q: want a number of replicas, 0 for none", waitReplicasParam, raw)
		}
		opts.WaitReplicas = n
		q.Del(waitReplicasParam)
	}
	if q.Has(waitTimeoutParam) {
		raw := q.Get(waitTimeoutParam)
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return "", fmt.Errorf("%s=%q: want a positive duration such as 200ms", waitTimeoutParam, raw)
		}
		opts.WaitTimeout = d
		q.Del(waitTimeoutParam)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// replicated sends the write that queue puts on a pipeline, followed by
// WAIT, in one round trip on one connection to the master that holds key,
// and returns the write's command, its reply read, and what WAIT answered.
// WAIT must go on the connection that wrote: it waits for the replication
// offset of that connection's last write.
//
// On a Cluster, the pipeline goes to the key's master as the client's slot
// map has it; a MOVED reply (the map is stale) reloads the map and sends
// the write once more, and a node that cannot be reached asks for a reload
// as a command of the Cluster client would.
func replicated[C goredis.Cmder](ctx context.Context, s *Store, key string, queue func(goredis.Pipeliner) C) (C, waited) {
	cmd, w := replicatedOnce(ctx, s, key, queue)
	cluster, ok := s.client.(*goredis.ClusterClient)
	if !ok {
		return cmd, w
	}
	err := cmd.Err()
	if _, moved := goredis.IsMovedError(err); moved {
		// ForEachMaster reloads the slot map before it returns.
		if rerr := cluster.ForEachMaster(ctx, func(context.Context, *goredis.Client) error { return nil }); rerr == nil {
			return replicatedOnce(ctx, s, key, queue)
		}
	}
	if s.failed != nil {
		s.failed(err)
	}
	return cmd, w
}

// waited is what WAIT answered after a write: how many replicas
// acknowledged it, or why WAIT failed.
type waited struct {
	acked int64
	err   error
}

func replicatedOnce[C goredis.Cmder](ctx context.Context, s *Store, key string, queue func(goredis.Pipeliner) C) (C, waited) {
	var cmd C
	node, err := s.master(ctx, key)
	if err != nil {
		pipe := s.client.Pipeline() // only to build a command holding err
		cmd = queue(pipe)
		cmd.SetErr(err)
		return cmd, waited{err: err}
	}
	pipe := node.Pipeline()
	cmd = queue(pipe)
	wait := pipe.Do(ctx, "WAIT", s.wait, s.waitFor.Milliseconds())
	_, _ = pipe.Exec(ctx) // each command holds its own reply or error
	acked, err := wait.Int64()
	return cmd, waited{acked: acked, err: err}
}

// master returns the client of the master that holds key: the client
// itself for one server or Sentinel (a failover client is a client of the
// current master), the key's master on a Cluster, its shard on a Ring.
func (s *Store) master(ctx context.Context, key string) (*goredis.Client, error) {
	switch c := s.client.(type) {
	case *goredis.Client:
		return c, nil
	case *goredis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *goredis.Ring:
		return c.GetShardClientForKey(key)
	default:
		return nil, fmt.Errorf("%s: a %T cannot send WAIT on the connection that wrote", waitReplicasParam, c)
	}
}

// durable returns the error of a write that succeeded on the master when
// w says fewer than the wanted replicas acknowledged it, and nil otherwise.
func (s *Store) durable(op, key string, w waited) error {
	if w.err != nil {
		return fmt.Errorf("redis: %s %q: written on the master, but WAIT for %d replicas failed: %w: %w",
			op, key, s.wait, ErrNotReplicated, w.err)
	}
	if w.acked < int64(s.wait) {
		return fmt.Errorf("redis: %s %q: written on the master, but %d of %d replicas acknowledged it within %v: %w",
			op, key, w.acked, s.wait, s.waitFor, ErrNotReplicated)
	}
	return nil
}

// isNoScript reports a NOSCRIPT reply: the server does not have the script
// (a new master after a failover, a restart, SCRIPT FLUSH).
func isNoScript(err error) bool {
	return goredis.HasErrorPrefix(err, "NOSCRIPT")
}

// runScript runs script on key with WAIT after it, as Script.Run does
// (EVALSHA, then EVAL if the server does not have the script), and returns
// its integer reply and what WAIT answered.
func (s *Store) runScript(ctx context.Context, script *goredis.Script, key string, args ...any) (int, waited, error) {
	keys := []string{key}
	cmd, w := replicated(ctx, s, key, func(p goredis.Pipeliner) *goredis.Cmd {
		return script.EvalSha(ctx, p, keys, args...)
	})
	if isNoScript(cmd.Err()) {
		cmd, w = replicated(ctx, s, key, func(p goredis.Pipeliner) *goredis.Cmd {
			return script.Eval(ctx, p, keys, args...)
		})
	}
	code, err := cmd.Int()
	return code, w, err
}
