// Command benchtable runs the comparison benchmarks and prints a markdown
// table of the median ns/op, B/op and allocs/op of each library and case,
// with each peer's ratio to cloakroom in the same run (ratios, because a
// shared machine is noisy: both sides of a ratio saw the same noise).
//
// Run it from the bench module:
//
//	go run ./cmd/benchtable              # go test -run '^$' -bench . -benchmem -count 5
//	go run ./cmd/benchtable -bench Gin -count 10
//	go run ./cmd/benchtable -rounds 5 -count 1 # interleaves the libraries' runs
//	CLOAKROOM_BENCH_ROUNDS=10 go run ./cmd/benchtable -bench Redis -count 1 # interleaved in one run
//	go run ./cmd/benchtable -in saved.txt # a saved `go test -bench` output
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// baseline is the library every other is compared with.
const baseline = "cloakroom"

// result is one benchmark's samples, by unit: "ns/op", "B/op", "allocs/op".
type result map[string][]float64

var units = []string{"ns/op", "B/op", "allocs/op"}

func main() {
	bench := flag.String("bench", ".", "benchmarks to run (go test -bench)")
	count := flag.Int("count", 5, "runs of each benchmark (go test -count)")
	rounds := flag.Int("rounds", 1, "run go test this many times, so that a noisy spell hits every library alike (-rounds 5 -count 1)")
	in := flag.String("in", "", "read this saved go test output instead of running the benchmarks")
	flag.Parse()
	log.SetFlags(0)

	var out io.Reader
	command := fmt.Sprintf("go test -run '^$' -bench '%s' -benchmem -count %d", *bench, *count)
	if r := os.Getenv("CLOAKROOM_BENCH_ROUNDS"); r != "" { // BenchmarkRedis's interleaved rounds
		command = "CLOAKROOM_BENCH_ROUNDS=" + r + " " + command
	}
	if *rounds > 1 {
		command = fmt.Sprintf("%d rounds of %s", *rounds, command)
	}
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		out, command = f, "(from "+*in+")"
	} else {
		var buf bytes.Buffer
		for range *rounds {
			cmd := exec.Command("go", "test", "-run", "^$", "-bench", *bench, "-benchmem", "-count", strconv.Itoa(*count))
			cmd.Stdout = io.MultiWriter(&buf, os.Stderr) // progress on stderr, table on stdout
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				log.Fatalf("go test: %v", err)
			}
		}
		out = &buf
	}
	names, results, cpu, err := parse(out)
	if err != nil {
		log.Fatal(err)
	}
	if len(names) == 0 {
		log.Fatal("no benchmark results")
	}
	fmt.Printf("`%s`: median of %d runs each", command, len(results[names[0]]["ns/op"]))
	if cpu != "" {
		fmt.Printf(", %s", cpu)
	}
	fmt.Print(". The × columns are the peer's figure over cloakroom's in the same case and run: above 1, cloakroom does less.\n\n")
	writeTable(os.Stdout, names, results)
}

// writeTable prints one row per benchmark in names, in that order. Rows
// are grouped by the framework and case of their name, so a peer's ratios
// are over the cloakroom row of its own framework ("Fiber3/Read/cloakroom"
// for "Fiber3/Read/fiber-session"); a framework where cloakroom runs alone
// gets its figures and no ratios.
func writeTable(w io.Writer, names []string, results map[string]result) {
	fmt.Fprintln(w, "| framework | case | library | ns/op | B/op | allocs/op | × ns | × B | × allocs |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, name := range names {
		framework, kase, library := split(name)
		base, hasBase := results[framework+"/"+kase+"/"+baseline]
		row := []string{framework, kase, library}
		for _, u := range units {
			row = append(row, format(median(results[name][u])))
		}
		for _, u := range units {
			if library == baseline || !hasBase || median(base[u]) == 0 {
				row = append(row, "")
				continue
			}
			row = append(row, ratio(median(results[name][u])/median(base[u])))
		}
		fmt.Fprintln(w, "| "+strings.Join(row, " | ")+" |")
	}
}

// parse reads go test -bench output, returning the benchmark names in
// the order first seen, their samples, and the cpu line.
func parse(r io.Reader) (names []string, results map[string]result, cpu string, err error) {
	results = map[string]result{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "cpu: "); ok {
			cpu = c
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 { // the -GOMAXPROCS suffix
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		name = dropRepeats(name)
		if results[name] == nil {
			results[name] = result{}
			names = append(names, name)
		}
		for i := 2; i+1 < len(fields); i += 2 { // after the iteration count: value unit pairs
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, nil, "", fmt.Errorf("%q: %v", line, err)
			}
			results[name][fields[i+1]] = append(results[name][fields[i+1]], v)
		}
	}
	return names, results, cpu, sc.Err()
}

// dropRepeats removes the #01, #02… that go test appends to a
// sub-benchmark run again under the name of an earlier one (as
// BenchmarkRedis does to interleave its sides), so that each repeat is one
// more sample: "Redis/Read#01/cloakroom" is "Redis/Read/cloakroom".
func dropRepeats(name string) string {
	if !strings.Contains(name, "#") {
		return name
	}
	parts := strings.Split(name, "/")
	for i, p := range parts {
		if j := strings.LastIndexByte(p, '#'); j > 0 && len(p) > j+1 && strings.Trim(p[j+1:], "0123456789") == "" {
			parts[i] = p[:j]
		}
	}
	return strings.Join(parts, "/")
}

// split turns "NetHTTP/Read/scs" into its three parts.
func split(name string) (framework, kase, library string) {
	parts := strings.SplitN(name, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func format(x float64) string {
	if x >= 100 || x == float64(int64(x)) {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

func ratio(x float64) string {
	switch {
	case x >= 10:
		return fmt.Sprintf("%.0f", x)
	case x >= 1:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}
