package redis

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// LogTo sends the messages go-redis logs on its own ("redis: connection
// pool: failed to dial after 5 attempts: ...", "sentinel: new master=...")
// to logger as structured records, instead of as lines on the process's
// stderr. Each record has the message "redis client" and two attributes:
// component="go-redis" and detail, the text go-redis wrote, with secrets
// masked by "xxxxx": the password in a URL's user information, the value
// of a password=, secret=, token= or auth= pair (Password: too), the
// arguments of an AUTH command, and every run of 22 or more characters of the URL-safe
// base64 alphabet (letters, digits, '-' and '_'), which covers session ids
// and the keys that hold them (random, UUID, Django or hashed), at the cost
// of masking as well any host or master name that long. The record's level
// is Info for notices of a change in the deployment (a new Sentinel master
// or sentinel, a Pub/Sub or Cluster node that moved), Error for a panic
// go-redis recovered from, and Warn for everything else, failed dials
// included. The context go-redis gave, often context.Background(), is
// passed on to the handler, and the record's source is go-redis's own
// caller. A nil logger means slog.Default() at the time of each message.
//
// go-redis has one logger for the whole process, shared by every client,
// and reads it without synchronisation: LogTo changes it for every client
// of the process, so call it once, from main at start-up, before any
// client is made. The package never calls it on its own. Which messages
// go-redis writes at all is set by goredis.SetLogLevel.
func LogTo(logger *slog.Logger) {
	goredis.SetLogger(&clientLogger{logger: logger})
}

// clientLogger turns go-redis's Printf calls into slog records.
type clientLogger struct {
	logger *slog.Logger // nil: slog.Default(), looked up per message
}

// Printf implements go-redis's logging interface.
func (l *clientLogger) Printf(ctx context.Context, format string, args ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	logger := l.logger
	if logger == nil {
		logger = slog.Default()
	}
	handler := logger.Handler()
	level := clientLogLevel(format)
	if !handler.Enabled(ctx, level) {
		return // spare formatting a message no one will see
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // go-redis's call of Printf
	r := slog.NewRecord(time.Now(), level, "redis client", pcs[0])
	r.AddAttrs(
		slog.String("component", "go-redis"),
		slog.String("detail", redactClientLog(fmt.Sprintf(format, args...))),
	)
	_ = handler.Handle(ctx, r) // as slog.Logger.Log does: nowhere to report it
}

// clientLogLevel classifies a go-redis message by its format string.
func clientLogLevel(format string) slog.Level {
	switch {
	case strings.Contains(format, "panic"):
		return slog.LevelError
	case strings.HasPrefix(format, "sentinel: new master"),
		strings.HasPrefix(format, "sentinel: discovered new sentinel"),
		strings.HasPrefix(format, "sentinel: selected addr"),
		strings.HasPrefix(format, "pubsub: reconnecting to new endpoint"),
		strings.HasPrefix(format, "cluster: slots"),
		strings.HasPrefix(format, "ring shard state changed"):
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

var (
	// The user information of a URL: what lies between "://" and the last
	// '@' before the host.
	urlUserinfo = regexp.MustCompile(`://([^\s/?#]*)@`)
	// A name=value or Name:value pair whose name says it holds a secret.
	secretPair = regexp.MustCompile(`(?i)\b([a-z_]*(?:pass(?:word|wd)?|pwd|secret|token|credentials?|auth)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&)}\]]+)`)
	// AUTH [username] password, alone or inside HELLO.
	authArgs = regexp.MustCompile(`(?i)\bauth(?:[ \t]+\S+){1,2}`)
	// Session ids, in keys or alone, and anything else that looks random.
	longToken = regexp.MustCompile(`[A-Za-z0-9_-]{22,}`)
)

// redactClientLog masks what must not reach a log in a go-redis message:
// passwords, AUTH arguments and session ids.
func redactClientLog(s string) string {
	s = urlUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		info := m[len("://") : len(m)-1]
		if user, _, ok := strings.Cut(info, ":"); ok {
			return "://" + user + ":xxxxx@"
		}
		return "://xxxxx@" // a lone name may be a password, as some clients read it
	})
	s = secretPair.ReplaceAllString(s, "${1}xxxxx")
	s = authArgs.ReplaceAllString(s, "AUTH xxxxx")
	return longToken.ReplaceAllString(s, "xxxxx")
}
