package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cloakroom/cloakroom/core"
)

// topOwners is how many owners stats names.
const topOwners = 10

// stats is what runStats finds, as -json prints it.
type stats struct {
	Sessions   int          `json:"sessions"`
	Owners     int          `json:"owners"`
	Anonymous  int          `json:"anonymous"`
	Unreadable int          `json:"unreadable"`
	TopOwners  []ownerCount `json:"top_owners"`
	Size       sizes        `json:"size"` // bytes as stored
}

type ownerCount struct {
	Owner    string `json:"owner"`
	Sessions int    `json:"sessions"`
}

type sizes struct {
	P50 int `json:"p50"`
	P90 int `json:"p90"`
	P99 int `json:"p99"`
	Max int `json:"max"`
}

// runStats counts the live sessions (of -user, if given), their owners and
// the anonymous ones, names the owners with the most sessions and gives
// the percentiles of the sessions' sizes.
func runStats(ctx context.Context, e *env, operands []string) error {
	if len(operands) > 0 {
		return usagef("stats takes no operands, got %q", operands)
	}
	var s stats
	var all []int
	owners := map[string]int{}
	err := e.scan(ctx, func(st core.Stored, err error) error {
		if err != nil {
			e.skip(st, err)
			s.Unreadable++
			return nil
		}
		s.Sessions++
		all = append(all, st.Size)
		if st.Owner == "" {
			s.Anonymous++
		} else {
			owners[st.Owner]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.Owners = len(owners)
	s.TopOwners = top(owners, topOwners)
	s.Size = percentiles(all)
	if e.cfg.json {
		if err := e.outJSON(s); err != nil {
			return err
		}
		return e.skippedErr()
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "sessions\t%d\nowners\t%d\nanonymous\t%d\n", s.Sessions, s.Owners, s.Anonymous)
	if s.Unreadable > 0 {
		fmt.Fprintf(tw, "unreadable\t%d\n", s.Unreadable)
	}
	fmt.Fprintf(tw, "size p50\t%d bytes\nsize p90\t%d bytes\nsize p99\t%d bytes\nsize max\t%d bytes\n", s.Size.P50, s.Size.P90, s.Size.P99, s.Size.Max)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.TopOwners) > 0 {
		b.WriteString("\ntop owners\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, o := range s.TopOwners {
			fmt.Fprintf(tw, "  %s\t%d\n", safe(o.Owner), o.Sessions)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if err := e.out("%s", b.String()); err != nil {
		return err
	}
	return e.skippedErr()
}

// top returns the n owners with the most sessions, most first, then by
// name.
func top(owners map[string]int, n int) []ownerCount {
	names := slices.SortedFunc(maps.Keys(owners), func(a, b string) int {
		return cmp.Or(cmp.Compare(owners[b], owners[a]), strings.Compare(a, b))
	})
	out := []ownerCount{}
	for _, name := range names[:min(n, len(names))] {
		out = append(out, ownerCount{name, owners[name]})
	}
	return out
}

// percentiles gives the nearest-rank percentiles of sizes: the smallest
// size that at least p% of the sessions do not exceed.
func percentiles(all []int) sizes {
	if len(all) == 0 {
		return sizes{}
	}
	slices.Sort(all)
	rank := func(p int) int {
		i := (p*len(all) + 99) / 100 // ceil(p/100 * n)
		return all[max(i, 1)-1]
	}
	return sizes{P50: rank(50), P90: rank(90), P99: rank(99), Max: all[len(all)-1]}
}
