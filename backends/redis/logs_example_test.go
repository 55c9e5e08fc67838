package redis_test

import (
	"log/slog"
	"os"

	"github.com/cloakroom/cloakroom/backends/redis"
)

// go-redis's own messages, such as a failed dial or a Sentinel failover,
// become records of the application's logger, with passwords and session
// ids masked. Call LogTo once, in main, before any client is made: go-redis
// has one logger for the whole process.
func ExampleLogTo() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	redis.LogTo(logger)
	// A failed dial is then logged as, for example:
	// {"time":"...","level":"WARN","msg":"redis client","component":"go-redis",
	//  "detail":"redis: connection pool: failed to dial after 5 attempts: dial tcp 127.0.0.1:6379: connect: connection refused"}
}
