package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits is the precision of a histogram: each power of two is cut into
// 2^subBits buckets, so a quantile is off by at most 1/64 (1.6%).
const subBits = 5

// histogram counts latencies in log-linear buckets with atomic adds: 200
// clients record into it at once without a lock, in fixed memory however
// long the run.
type histogram struct {
	counts [64 << subBits]atomic.Int64
}

// bucket returns the index of the bucket holding ns: ns itself below
// 2^subBits, then the exponent and the subBits bits after the leading one.
func bucket(ns int64) int {
	if ns < 1<<subBits {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - subBits - 1
	return (e+1)<<subBits | int(ns>>e)&(1<<subBits-1)
}

// bucketMid returns the middle of bucket i's range.
func bucketMid(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	e := i>>subBits - 1
	lo := int64(i&(1<<subBits-1)|1<<subBits) << e
	return lo + (int64(1)<<e)/2
}

func (h *histogram) record(d time.Duration) { h.counts[bucket(int64(d))].Add(1) }

func (h *histogram) count() int64 {
	var n int64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// add adds o's counts to h.
func (h *histogram) add(o *histogram) {
	for i := range o.counts {
		if n := o.counts[i].Load(); n != 0 {
			h.counts[i].Add(n)
		}
	}
}

// quantile returns the latency below which a fraction q of the recorded
// ones lie; 0 when none was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.count()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= max(rank, 1) {
			return time.Duration(bucketMid(i))
		}
	}
	return time.Duration(bucketMid(len(h.counts) - 1))
}
