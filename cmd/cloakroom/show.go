package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cloakroom/cloakroom/core"
)

// runShow prints one session: its summary, then each key, the type of its
// value in words and the value, the reserved keys last and marked.
func runShow(ctx context.Context, e *env, operands []string) error {
	if len(operands) != 1 {
		return usagef("show takes one HANDLE, as list prints it")
	}
	f, err := e.find(ctx, operands[0])
	if err != nil {
		return err
	}
	if f.readErr != nil {
		return fmt.Errorf("session %s cannot be read: %w", safe(operands[0]), f.readErr)
	}
	keys := slices.SortedFunc(maps.Keys(f.Data), func(a, b string) int {
		if ra, rb := core.Reserved(a), core.Reserved(b); ra != rb {
			if ra {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	if e.cfg.json {
		type value struct {
			Type     string `json:"type"`
			Value    any    `json:"value"`
			Reserved bool   `json:"reserved,omitempty"`
		}
		doc := struct {
			summary
			Data map[string]value `json:"data"`
		}{summarize(f.Stored), make(map[string]value, len(keys))}
		for _, k := range keys {
			doc.Data[k] = value{kind(f.Data[k]), jsonValue(f.Data[k]), core.Reserved(k)}
		}
		return e.outJSON(doc)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "handle   %s\nowner    %s\nsize     %d bytes\nexpires  %s\n\n", orDash(f.Handle), orDash(f.Owner), f.Size, expires(f.Stored))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		line := safe(k) + "\t" + kind(f.Data[k]) + "\t" + clip(text(f.Data[k], true))
		if core.Reserved(k) {
			line += "\t(reserved)"
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return e.out("%s", b.String())
}
