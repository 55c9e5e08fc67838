package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultReloadOnFailure is how often, at most, a Cluster client built by
// Open reloads its slot map after commands fail for want of a node, unless
// the URL's reload_on_failure parameter says otherwise. go-redis itself
// reloads only on MOVED, ASK and READONLY replies and once a minute, and a
// dead master sends none of them: without this, the slots of a master
// that died stay unreachable for up to a minute after its replica took
// over.
const DefaultReloadOnFailure = 250 * time.Millisecond

// reloadParam is the URL parameter that sets the minimum interval between
// reloads on failure; 0 or off turns them off.
const reloadParam = "reload_on_failure"

// takeReloadOnFailure removes the reload_on_failure parameter from u, which
// go-redis's parsers do not know, and returns its value (0 for off) and
// whether the URL gave one. Absent, it is DefaultReloadOnFailure.
func takeReloadOnFailure(u *url.URL) (time.Duration, bool, error) {
	q := u.Query()
	if !q.Has(reloadParam) {
		return DefaultReloadOnFailure, false, nil
	}
	raw := q.Get(reloadParam)
	q.Del(reloadParam)
	u.RawQuery = q.Encode()
	if raw == "off" {
		return 0, true, nil
	}
	every, err := time.ParseDuration(raw)
	if err != nil || every < 0 {
		return 0, true, fmt.Errorf("%s=%q: want a duration such as 250ms, or 0 or off", reloadParam, raw)
	}
	return every, true, nil
}

// reloader is a go-redis hook on a Cluster client that asks the client to
// reload its slot map when a command fails because a node could not be
// reached, at most once per interval: a dead node fails many commands a
// second, and each reload costs a CLUSTER SLOTS. The reload itself runs in
// go-redis's single background reloader, so no goroutine is started here.
type reloader struct {
	reload   func(context.Context) // the client's ReloadState
	interval time.Duration
	epoch    time.Time    // gives last a monotonic reference
	last     atomic.Int64 // time since epoch of the last reload asked for; 0: none yet
}

// reloadOnFailure hooks a reloader into client unless every is 0 (off),
// and returns it (nil when off).
func reloadOnFailure(client *goredis.ClusterClient, every time.Duration) *reloader {
	if every <= 0 {
		return nil
	}
	r := newReloader(client.ReloadState, every)
	client.AddHook(r)
	return r
}

func newReloader(reload func(context.Context), every time.Duration) *reloader {
	return &reloader{reload: reload, interval: every, epoch: time.Now()}
}

// failed asks for a reload when err means a node is gone or unreachable and
// the last reload was asked for at least an interval ago.
func (r *reloader) failed(err error) {
	if !nodeFailure(err) {
		return
	}
	now := int64(time.Since(r.epoch))
	last := r.last.Load()
	if last != 0 && now-last < int64(r.interval) {
		return
	}
	// Of the callers that fail at once, one wins and asks.
	if r.last.CompareAndSwap(last, now) {
		r.reload(context.Background())
	}
}

// nodeFailure reports whether err says that a node could not be reached or
// that the Cluster is reorganising: refused or timed-out dials, connections
// reset or closed under a command, deadlines passed waiting for a node, and
// CLUSTERDOWN. Replies such as a missing key (goredis.Nil), a failed NX or
// a script's error are not: the node answered.
func nodeFailure(err error) bool {
	if err == nil || errors.Is(err, goredis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, goredis.ErrPoolTimeout) ||
		goredis.IsClusterDownError(err)
}

// DialHook implements goredis.Hook; dials are left alone, as their
// failures also fail the command, which ProcessHook sees.
func (r *reloader) DialHook(next goredis.DialHook) goredis.DialHook { return next }

// ProcessHook implements goredis.Hook.
func (r *reloader) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		r.failed(err)
		return err
	}
}

// ProcessPipelineHook implements goredis.Hook; a pipeline returns the
// first failure of its commands.
func (r *reloader) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		r.failed(err)
		return err
	}
}
