package memcached

import (
	"math"
	"testing"
	"time"
)

func TestExpiration(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	day := 24 * time.Hour
	tests := []struct {
		ttl  time.Duration
		want int32
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Nanosecond, 2}, // rounded up to 1 s, plus the tick second
		{999 * time.Millisecond, 2},
		{time.Second, 2},
		{1001 * time.Millisecond, 3},
		{time.Hour, 3601},
		{30*day - time.Second, 2_592_000},     // the last relative value
		{30 * day, 1_700_000_000 + 2_592_001}, // absolute from here on
		{30*day - time.Millisecond, 1_700_000_000 + 2_592_001}, // rounds up past the limit
		{40 * day, 1_700_000_000 + 40*86400 + 1},
		{100 * 365 * day, math.MaxInt32}, // past 2038: capped
		{math.MaxInt64, math.MaxInt32},
	}
	for _, tt := range tests {
		if got := expiration(now, tt.ttl); got != tt.want {
			t.Errorf("expiration(%v) = %d, want %d", tt.ttl, got, tt.want)
		}
	}
}
