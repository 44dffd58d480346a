package main

import (
	"math"
	"math/bits"
	"time"
)

// hist is a log-linear latency histogram over nanoseconds: values are
// grouped by their power of two (the "log" part) and each power is split
// into 1<<histSub equal sub-buckets (the "linear" part), so the relative
// error is below 1/(1<<histSub) ≈ 3 % at any magnitude. 64 powers × 32
// sub-buckets = 2048 counters, 16 KiB, mergeable by addition.
const histSub = 5

type hist struct {
	counts [64 << histSub]uint64
	total  uint64
}

func histIndex(v uint64) int {
	if v < 1<<histSub {
		return int(v)
	}
	exp := bits.Len64(v) - 1 // v in [2^exp, 2^(exp+1))
	sub := (v >> (uint(exp) - histSub)) & (1<<histSub - 1)
	return (exp-histSub+1)<<histSub + int(sub)
}

// histLow is the smallest value mapping to index i.
func histLow(i int) uint64 {
	if i < 1<<histSub {
		return uint64(i)
	}
	exp := i>>histSub + histSub - 1
	sub := uint64(i & (1<<histSub - 1))
	return (1<<histSub | sub) << uint(exp-histSub)
}

func (h *hist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d))]++
	h.total++
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the q-quantile in microseconds, reporting the midpoint
// of the bucket that holds it.
func (h *hist) quantile(q float64) float64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo := histLow(i)
			hi := lo + 1
			if i+1 < len(h.counts) {
				hi = histLow(i + 1)
			}
			return float64(lo+hi) / 2 / 1e3
		}
	}
	return 0
}
