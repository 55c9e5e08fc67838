package redis

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// scanCount is the COUNT hint of each SCAN: how many slots of the keyspace
// one call walks, which bounds the time a single call holds the server.
const scanCount = 1000

// Keys implements core.Lister with SCAN MATCH prefix* on the server, or on
// every master of a Cluster (and every shard of a Ring), one node after the
// other. The prefix is matched literally: the glob characters *?[]\ in it
// are escaped.
// As with SCAN itself, a key written or deleted during the iteration may or
// may not be yielded, and a key may rarely be yielded twice if the server
// resizes its keyspace meanwhile.
//
// The Store's timeout (Options.Timeout) bounds the wait for each page of
// keys, not the whole iteration, whose length depends on the size of the
// keyspace: the first page shares its bound with finding a Cluster's
// masters (a round trip of its own), and each later SCAN has its own.
func (s *Store) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.ready(ctx); err != nil {
			yield("", fmt.Errorf("redis: keys %q: %w", prefix, err))
			return
		}
		first, cancel := s.bound(ctx)
		defer cancel()
		nodes, err := s.nodes(first)
		if err != nil {
			yield("", fmt.Errorf("redis: keys %q: %w", prefix, s.explain(ctx, first, err)))
			return
		}
		pattern := escapeGlob(prefix) + "*"
		for _, node := range nodes {
			if !s.scan(ctx, first, node, prefix, pattern, yield) {
				return
			}
			first = nil
		}
	}
}

// scan yields the keys of one node matching pattern. It returns false when
// the iteration must stop: the consumer broke off, or an error was yielded.
// A non-nil first is the bounded context of the first SCAN.
func (s *Store) scan(ctx, first context.Context, node goredis.Cmdable, prefix, pattern string, yield func(string, error) bool) bool {
	var cursor uint64
	for {
		keys, next, err := s.scanOnce(ctx, first, node, cursor, pattern)
		first = nil
		if err != nil {
			yield("", fmt.Errorf("redis: keys %q: %w", prefix, err))
			return false
		}
		for _, key := range keys {
			if !yield(key, nil) {
				return false
			}
		}
		if next == 0 {
			return true
		}
		cursor = next
	}
}

// scanOnce sends one SCAN from cursor under bounded, or, when bounded is
// nil, under ctx bounded by the Store's timeout.
func (s *Store) scanOnce(ctx, bounded context.Context, node goredis.Cmdable, cursor uint64, pattern string) ([]string, uint64, error) {
	if bounded == nil {
		var cancel context.CancelFunc
		bounded, cancel = s.bound(ctx)
		defer cancel()
	}
	keys, next, err := node.Scan(bounded, cursor, pattern, scanCount).Result()
	return keys, next, s.explain(ctx, bounded, err)
}

// nodes returns the clients to SCAN: every master of a Cluster, every shard
// of a Ring, or the client itself. Finding a Cluster's masters reloads the
// cluster's layout, a round trip that ctx must bound.
func (s *Store) nodes(ctx context.Context) ([]goredis.Cmdable, error) {
	var (
		mu    sync.Mutex
		nodes []goredis.Cmdable
	)
	collect := func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, c)
		return nil
	}
	var each func(context.Context, func(context.Context, *goredis.Client) error) error
	switch c := s.client.(type) {
	case *goredis.ClusterClient:
		each = c.ForEachMaster
	case *goredis.Ring:
		each = c.ForEachShard
	default:
		return []goredis.Cmdable{s.client}, nil
	}
	err := each(ctx, collect)
	return nodes, err
}

// escapeGlob quotes the characters SCAN MATCH gives a meaning to, so that
// the prefix matches only itself.
func escapeGlob(s string) string {
	const special = `*?[]\`
	if !strings.ContainsAny(s, special) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := range len(s) {
		if strings.IndexByte(special, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
