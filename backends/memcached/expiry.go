package memcached

import (
	"math"
	"time"
)

// relativeLimit is the largest expiration memcached reads as seconds from
// now; larger values are absolute Unix times.
const relativeLimit = 30 * 24 * 60 * 60

// expiration converts ttl into memcached's expiration field at time now.
//
// A ttl of zero or less is 0: never expire. Otherwise ttl is rounded up to
// whole seconds, so that no ttl becomes 0, and one second is added:
// memcached's clock ticks once a second, so an expiration of n seconds lasts
// between n-1 and n seconds, and a key set with 1 could vanish at once. With
// the extra second a key lives at least ttl and at most one second longer.
// Up to 30 days the result is relative; beyond, it is the absolute Unix time
// now+ttl (memcached's rule), capped at the largest int32 (January 2038).
func expiration(now time.Time, ttl time.Duration) int32 {
	if ttl <= 0 {
		return 0
	}
	secs := int64(ttl/time.Second) + 1
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
