// Package touchlog remembers when this process last extended each idle
// session, so that a busy session is touched once per interval, not once per
// request.
package touchlog

import (
	"sync"
	"time"
)

// Log keeps two generations of ids and drops the older one each interval, which
// bounds it to the sessions seen in the last two intervals without a
// goroutine or a scan.
type Log struct {
	mu      sync.Mutex
	started time.Time // when cur began
	cur     map[string]time.Time
	prev    map[string]time.Time
}

// Due reports whether id was not touched within interval of now.
func (l *Log) Due(id string, now time.Time, interval time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now, interval)
	last, ok := l.cur[id]
	if !ok {
		last, ok = l.prev[id]
	}
	return !ok || now.Sub(last) >= interval
}

// Record notes that id's expiry was extended at now.
func (l *Log) Record(id string, now time.Time, interval time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now, interval)
	l.cur[id] = now
}

// rotate starts a new generation when the current one is interval old.
func (l *Log) rotate(now time.Time, interval time.Duration) {
	if l.cur == nil || now.Sub(l.started) >= interval {
		l.prev, l.cur, l.started = l.cur, make(map[string]time.Time), now
	}
}
