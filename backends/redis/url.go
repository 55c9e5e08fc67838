package redis

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// NewFromURL builds a client from rawURL, the way Quart-Session's
// SESSION_URI names a server, and returns a Store that owns it (Store.Close
// closes it). Accepted forms:
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
// goredis.ParseClusterURL and goredis.ParseFailoverURL); for Sentinel the
// user information authenticates to the sentinels and the master's password
// goes in the password parameter. Unless the URL says
// context_timeout_enabled=false, the client honours context deadlines on
// reads and writes.
func NewFromURL(rawURL string) (*Store, error) {
	client, err := clientFromURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: url %s: %w", redact(rawURL), err)
	}
	return &Store{client: client, owned: true}, nil
}

func clientFromURL(rawURL string) (goredis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, err
	}
	ctxTimeouts, err := takeContextTimeouts(u)
	if err != nil {
		return nil, err
	}
	base, kind, _ := strings.Cut(u.Scheme, "+")
	if kind == "" && strings.Contains(u.Host, ",") {
		kind = "cluster"
	}
	tcp := base == "redis" || base == "rediss"
	switch {
	case kind == "" && (tcp || base == "unix"):
		opts, err := goredis.ParseURL(u.String())
		if err != nil {
			return nil, err
		}
		opts.ContextTimeoutEnabled = ctxTimeouts
		return goredis.NewClient(opts), nil
	case kind == "cluster" && tcp:
		opts, err := goredis.ParseClusterURL(normalise(u, base).String())
		if err != nil {
			return nil, err
		}
		opts.ContextTimeoutEnabled = ctxTimeouts
		return goredis.NewClusterClient(opts), nil
	case kind == "sentinel" && tcp:
		opts, err := goredis.ParseFailoverURL(normalise(u, base).String())
		if err != nil {
			return nil, err
		}
		if opts.MasterName == "" {
			return nil, errors.New("a sentinel URL needs ?master_name=NAME")
		}
		opts.ContextTimeoutEnabled = ctxTimeouts
		return goredis.NewFailoverClient(opts), nil
	default:
		return nil, fmt.Errorf("unsupported scheme %q (want redis, rediss, unix, redis+cluster or redis+sentinel)", u.Scheme)
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

// redact hides a password in rawURL for error messages.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
