package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Open builds a client from rawURL, the way Quart-Session's SESSION_URI
// names a server, checks with one PING bounded by ctx that the server
// answers, and returns a Store that owns the client (Store.Close closes it).
// When the URL is invalid or the server does not answer, Open returns an
// error, which never shows a password, and closes the client it built.
// Accepted forms:
//
//	redis://[[user]:password@]host[:port][/db][?option=value...]  one server
//	rediss://...                                                  the same over TLS
//	unix://[[user]:password@]/path/redis.sock[?db=N]              a Unix socket
//	redis+cluster://[[user]:password@]host:port[,host:port...]    a Cluster
//	redis+sentinel://[sentinel-user:sentinel-password@]host:port[,host:port...][/db]?master_name=NAME
//
// A redis:// URL listing several comma-separated hosts is taken as a
// Cluster. The +cluster and +sentinel schemes also exist as rediss+cluster
// and rediss+sentinel for TLS. Options are go-redis's query parameters
// (dial_timeout=1s, pool_size=20, ...; see goredis.ParseURL,
// goredis.ParseClusterURL and goredis.ParseFailoverURL), plus
// context_timeout_enabled, wait_replicas and wait_timeout (Options'
// WaitReplicas and WaitTimeout, which the URL's values override) and, for
// a Cluster, reload_on_failure (below);
// for Sentinel the user information authenticates to the sentinels and the
// master's password goes in the password parameter.
//
// Timeouts: a zero opts.Timeout becomes DefaultTimeout (1.5 s), which
// bounds each call of the Store, retries included, and Open's ping too.
// The client honours context deadlines on reads and writes unless the URL
// says context_timeout_enabled=false. Each of dial_timeout, read_timeout,
// write_timeout and pool_timeout that the URL does not set becomes
// opts.Timeout, so that commands sent through Store.Client and the
// client's own background work (Cluster layout reloads, Sentinel lookups)
// are bounded as well. What the URL sets wins; a negative opts.Timeout
// keeps go-redis's defaults and adds no bound of the Store's own.
//
// Cluster failover: the Cluster client reloads its slot map when a
// command fails because a node cannot be reached (refused, reset or
// timed-out connections, CLUSTERDOWN), at most once per reload_on_failure
// (DefaultReloadOnFailure, 250ms, when the URL sets none; 0 or off turns
// it off). The slots of a master that died are then served by its
// promoted replica within half a second of the promotion, instead of after
// go-redis's next periodic reload, up to a minute later.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	rest, err := takeWait(rawURL, &opts)
	if err != nil {
		return nil, fmt.Errorf("redis: open %s: %w", redact(rawURL), err)
	}
	client, reloads, err := buildClient(rest, opts.Timeout)
	if err != nil {
		return nil, fmt.Errorf("redis: open %s: %w", redact(rawURL), err)
	}
	store, err := own(ctx, client, opts)
	if err != nil {
		return nil, fmt.Errorf("redis: open %s: %w", redact(rawURL), err)
	}
	if reloads != nil {
		store.failed = reloads.failed
	}
	return store, nil
}

// own pings client, within ctx and the Store's timeout, and returns a Store
// that owns it, or closes client and returns the ping's error. The close
// runs in the background: a go-redis Sentinel client's Close waits for a
// master lookup still in flight, which ctx does not bound (it retries up to
// the client's DialTimeout), and Open must return by ctx's deadline.
func own(ctx context.Context, client goredis.UniversalClient, opts Options) (*Store, error) {
	store := New(client, opts)
	bounded, cancel := store.bound(ctx)
	defer cancel()
	if err := client.Ping(bounded).Err(); err != nil {
		go func() { _ = client.Close() }()
		return nil, fmt.Errorf("ping: %w", store.explain(ctx, bounded, err))
	}
	store.owned = true
	return store, nil
}

// clientFromURL builds the client rawURL describes, with timeout (when
// positive) as the dial, read, write and pool timeout wherever the URL
// sets none.
func clientFromURL(rawURL string, timeout time.Duration) (goredis.UniversalClient, error) {
	client, _, err := buildClient(rawURL, timeout)
	return client, err
}

// buildClient is clientFromURL that also returns the reloader hooked into
// a Cluster client, if any.
func buildClient(rawURL string, timeout time.Duration) (goredis.UniversalClient, *reloader, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, nil, err
	}
	ctxTimeouts, err := takeContextTimeouts(u)
	if err != nil {
		return nil, nil, err
	}
	reload, reloadSet, err := takeReloadOnFailure(u)
	if err != nil {
		return nil, nil, err
	}
	base, kind, _ := strings.Cut(u.Scheme, "+")
	if kind == "" && strings.Contains(u.Host, ",") {
		kind = "cluster"
	}
	if reloadSet && kind != "cluster" {
		// Only a Cluster has a slot map; go-redis would refuse the
		// unknown parameter too.
		return nil, nil, fmt.Errorf("%s applies to Cluster URLs only", reloadParam)
	}
	tcp := base == "redis" || base == "rediss"
	switch {
	case kind == "" && (tcp || base == "unix"):
		opts, err := goredis.ParseURL(u.String())
		if err != nil {
			return nil, nil, err
		}
		opts.ContextTimeoutEnabled = ctxTimeouts
		fillTimeouts(timeout, &opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout)
		return goredis.NewClient(opts), nil, nil
	case kind == "cluster" && tcp:
		opts, err := goredis.ParseClusterURL(normalise(u, base).String())
		if err != nil {
			return nil, nil, err
		}
		opts.ContextTimeoutEnabled = ctxTimeouts
		fillTimeouts(timeout, &opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout)
		client := goredis.NewClusterClient(opts)
		return client, reloadOnFailure(client, reload), nil
	case kind == "sentinel" && tcp:
		opts, err := goredis.ParseFailoverURL(normalise(u, base).String())
		if err != nil {
			return nil, nil, err
		}
		if opts.MasterName == "" {
			return nil, nil, errors.New("a sentinel URL needs ?master_name=NAME")
		}
		opts.ContextTimeoutEnabled = ctxTimeouts
		fillTimeouts(timeout, &opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout)
		return goredis.NewFailoverClient(opts), nil, nil
	default:
		return nil, nil, fmt.Errorf("unsupported scheme %q (want redis, rediss, unix, redis+cluster or redis+sentinel)", u.Scheme)
	}
}

// fillTimeouts sets each of fields that the URL left unset to timeout, when
// positive. go-redis's parsers leave an absent parameter at zero and turn
// an explicit 0 or negative value into -1 ("no timeout"), so a zero field
// is exactly one the URL did not set, and what the URL sets wins. go-redis's
// own defaults (5 s reads, 6 s pool waits, retries on top) would hold a
// request on a frozen server well past two seconds.
func fillTimeouts(timeout time.Duration, fields ...*time.Duration) {
	if timeout <= 0 {
		return
	}
	for _, f := range fields {
		if *f == 0 {
			*f = timeout
		}
	}
}

// normalise rewrites a cluster or sentinel URL into the form go-redis
// parses: plain scheme, first host in the authority and the others as addr
// parameters.
func normalise(u *url.URL, scheme string) *url.URL {
	v := *u
	v.Scheme = scheme
	hosts := strings.Split(v.Host, ",")
	v.Host = hosts[0]
	q := v.Query()
	for _, h := range hosts[1:] {
		if h != "" {
			q.Add("addr", h)
		}
	}
	v.RawQuery = q.Encode()
	return &v
}

// takeContextTimeouts removes the context_timeout_enabled parameter from u,
// which not every go-redis parser knows, and returns its value: true when
// absent.
func takeContextTimeouts(u *url.URL) (bool, error) {
	q := u.Query()
	if !q.Has("context_timeout_enabled") {
		return true, nil
	}
	on, err := strconv.ParseBool(q.Get("context_timeout_enabled"))
	if err != nil {
		return false, fmt.Errorf("context_timeout_enabled: %w", err)
	}
	q.Del("context_timeout_enabled")
	u.RawQuery = q.Encode()
	return on, nil
}

// redact hides the passwords in rawURL, for error messages: the one in the
// user information and any query parameter whose name mentions a password
// (a Sentinel URL carries the master's in password=).
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" {
		// Rebuilt from the parsed form, which also drops any malformed
		// pair that might hold a password.
		q := u.Query()
		for name := range q {
			if strings.Contains(strings.ToLower(name), "password") {
				q[name] = []string{"xxxxx"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
