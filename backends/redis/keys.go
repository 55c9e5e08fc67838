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
func (s *Store) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.ready(ctx); err != nil {
			yield("", fmt.Errorf("redis: keys %q: %w", prefix, err))
			return
		}
		nodes, err := s.nodes(ctx)
		if err != nil {
			yield("", fmt.Errorf("redis: keys %q: %w", prefix, err))
			return
		}
		pattern := escapeGlob(prefix) + "*"
		for _, node := range nodes {
			if !scan(ctx, node, prefix, pattern, yield) {
				return
			}
		}
	}
}

// scan yields the keys of one node matching pattern. It returns false when
// the iteration must stop: the consumer broke off, or an error was yielded.
func scan(ctx context.Context, node goredis.Cmdable, prefix, pattern string, yield func(string, error) bool) bool {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, pattern, scanCount).Result()
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

// nodes returns the clients to SCAN: every master of a Cluster, every shard
// of a Ring, or the client itself.
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
	var err error
	switch c := s.client.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *goredis.Ring:
		err = c.ForEachShard(ctx, collect)
	default:
		return []goredis.Cmdable{s.client}, nil
	}
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
