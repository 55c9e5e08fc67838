package memcached

import (
	"math"
	"time"
)

// relativeLimit is the largest expiration memcached reads as seconds from
// now; larger values are absolute Unix times.
const relativeLimit = 30 * 24 * 60 * 60

// expiration converts ttl into memcached's expiration field at time now:
// 0 (never) for ttl <= 0, whole seconds rounded up for ttls up to 30 days,
// and an absolute Unix time (capped at the largest int32) beyond.
func expiration(now time.Time, ttl time.Duration) int32 {
	if ttl <= 0 {
		return 0
	}
	secs := int64(ttl / time.Second)
	if ttl%time.Second != 0 {
		secs++
	}
	if secs <= relativeLimit {
		return int32(secs)
	}
	abs := now.Unix() + secs
	if abs > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(abs)
}
