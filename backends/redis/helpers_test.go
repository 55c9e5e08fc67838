package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// Addresses of the test servers; scripts/services/redis.sh starts them.
func standaloneAddr() string {
	return backendtest.Env("CLOAKROOM_REDIS_ADDR", "127.0.0.1:6379")
}

func clusterAddrs() []string {
	return strings.Split(backendtest.Env("CLOAKROOM_REDIS_CLUSTER_ADDRS",
		"127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003"), ",")
}

func sentinelAddrs() []string {
	return strings.Split(backendtest.Env("CLOAKROOM_REDIS_SENTINEL_ADDRS", "127.0.0.1:26390"), ",")
}

func sentinelMaster() string {
	return backendtest.Env("CLOAKROOM_REDIS_SENTINEL_MASTER", "cloakroom")
}

// reachable pings client, and skips (or fails under
// CLOAKROOM_REQUIRE_SERVICES) when the server does not answer.
func reachable(t testing.TB, what string, client goredis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		backendtest.Unavailable(t, what, err)
	}
}

// standaloneClient returns a client of the standalone server, closed when
// the test ends.
func standaloneClient(t testing.TB) *goredis.Client {
	t.Helper()
	client := goredis.NewClient(&goredis.Options{
		Addr:                  standaloneAddr(),
		ContextTimeoutEnabled: true,
	})
	reachable(t, "redis at "+standaloneAddr(), client)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// clusterClient returns a client of the test Cluster, closed when the test
// ends.
func clusterClient(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 clusterAddrs(),
		ContextTimeoutEnabled: true,
	})
	reachable(t, "redis cluster at "+strings.Join(clusterAddrs(), ","), client)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// sentinelClient returns a failover client of the test Sentinel set-up,
// closed when the test ends.
func sentinelClient(t testing.TB) *goredis.Client {
	t.Helper()
	client := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:            sentinelMaster(),
		SentinelAddrs:         sentinelAddrs(),
		ContextTimeoutEnabled: true,
	})
	reachable(t, "redis sentinel at "+strings.Join(sentinelAddrs(), ",")+" (master "+sentinelMaster()+")", client)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// testKey returns a key unique to the test, deleted from client when the
// test ends.
func testKey(t testing.TB, client goredis.UniversalClient, suffix string) string {
	t.Helper()
	key := "cloakroomtest:redis:" + t.Name() + ":" + time.Now().Format("150405.000000000") + ":" + suffix
	t.Cleanup(func() { _ = client.Del(context.Background(), key).Err() })
	return key
}
