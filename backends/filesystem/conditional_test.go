package filesystem_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/core"
)

// Environment of the child processes of TestCrossProcessIncrement.
const (
	childDirEnv     = "CLOAKROOM_FILESYSTEM_TEST_DIR"     // the shared folder
	childBarrierEnv = "CLOAKROOM_FILESYSTEM_TEST_BARRIER" // where children meet
)

const (
	crossProcessChildren = 2
	crossProcessRounds   = 200
	counterKey           = "session:counter"
)

// TestCrossProcessIncrement runs this test binary twice more as child
// processes that each increment one counter in a shared folder with
// GetVersion/SetIf loops, as two servers on one disk would. A SetIf that
// overwrote blindly, or a lock that excluded only the goroutines of one
// process, would lose increments.
func TestCrossProcessIncrement(t *testing.T) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		runIncrementChild(t, dir, os.Getenv(childBarrierEnv))
		return
	}
	ctx := context.Background()
	dir, barrier := t.TempDir(), t.TempDir()
	s := newStore(t, dir)
	if err := s.Set(ctx, counterKey, []byte("0"), time.Hour); err != nil {
		t.Fatal(err)
	}

	outputs := make([]*bytes.Buffer, crossProcessChildren)
	cmds := make([]*exec.Cmd, crossProcessChildren)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrossProcessIncrement$", "-test.count=1", "-test.timeout=2m")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childBarrierEnv+"="+barrier)
		outputs[i] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outputs[i], outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	conflicts := 0
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outputs[i])
			continue
		}
		conflicts += childConflicts(t, outputs[i].String())
	}
	if t.Failed() {
		return
	}
	got, err := s.Get(ctx, counterKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(crossProcessChildren * crossProcessRounds); string(got) != want {
		t.Fatalf("counter = %s after %d processes each added %d, want %s", got, crossProcessChildren, crossProcessRounds, want)
	}
	t.Logf("%d conflicts retried", conflicts)
}

// runIncrementChild is the body of a child process: it waits until every
// child has started, so that their loops overlap, then increments.
func runIncrementChild(t *testing.T, dir, barrier string) {
	ctx := context.Background()
	s, err := filesystem.New(dir, filesystem.Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitForChildren(t, barrier)
	conflicts := 0
	for range crossProcessRounds {
		n, err := incrementCounter(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		conflicts += n
	}
	fmt.Printf("conflicts=%d\n", conflicts)
}

func waitForChildren(t *testing.T, barrier string) {
	if err := os.WriteFile(filepath.Join(barrier, strconv.Itoa(os.Getpid())), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if entries, _ := os.ReadDir(barrier); len(entries) >= crossProcessChildren {
			return
		}
	}
	t.Fatal("the other child processes did not start within 30s")
}

// incrementCounter adds one to the counter, retrying on conflicts, and
// returns how many conflicts it met.
func incrementCounter(ctx context.Context, s *filesystem.Store) (conflicts int, err error) {
	for ; ; conflicts++ {
		cur, version, err := s.GetVersion(ctx, counterKey)
		if err != nil {
			return conflicts, err
		}
		n, err := strconv.Atoi(string(cur))
		if err != nil {
			return conflicts, fmt.Errorf("counter %q: %w", cur, err)
		}
		err = s.SetIf(ctx, counterKey, version, []byte(strconv.Itoa(n+1)), time.Hour)
		if !errors.Is(err, core.ErrConflict) {
			return conflicts, err
		}
	}
}

func childConflicts(t *testing.T, output string) int {
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "conflicts="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Errorf("child output %q: %v", sc.Text(), err)
			}
			return n
		}
	}
	t.Errorf("child reported no conflict count:\n%s", output)
	return 0
}

// TestTwoStoresOneFolder is two servers sharing a folder, in one process:
// a version read through one Store is checked by the other.
func TestTwoStoresOneFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := newStore(t, dir), newStore(t, dir)
	if err := a.SetIf(ctx, "session:x", nil, []byte("a1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.SetIf(ctx, "session:x", nil, []byte("b1"), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("create of a key the other Store created: err = %v, want ErrConflict", err)
	}
	_, va, _ := a.GetVersion(ctx, "session:x")
	_, vb, _ := b.GetVersion(ctx, "session:x")
	if err := b.SetIf(ctx, "session:x", vb, []byte("b2"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := a.SetIf(ctx, "session:x", va, []byte("a2"), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf with a version the other Store replaced: err = %v, want ErrConflict", err)
	}
	if err := a.DeleteIf(ctx, "session:x", va); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("DeleteIf with a version the other Store replaced: err = %v, want ErrConflict", err)
	}
	if got, _ := a.Get(ctx, "session:x"); string(got) != "b2" {
		t.Fatalf("value = %q, want b2", got)
	}
}

// TestConditionalExpiredIsAbsent checks that a file whose time has passed
// counts as absent, so a request cannot revive an expired session.
func TestConditionalExpiredIsAbsent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newStore(t, dir)
	if err := s.Set(ctx, "session:old", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	_, version, err := s.GetVersion(ctx, "session:old")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Second)
	file := filepath.Join(dir, "s"+base64.RawURLEncoding.EncodeToString([]byte("session:old")))
	if err := os.Chtimes(file, past, past); err != nil {
		t.Fatal(err)
	}

	if err := s.SetIf(ctx, "session:old", version, []byte("revived"), time.Hour); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("SetIf of an expired key: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteIf(ctx, "session:old", version); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("DeleteIf of an expired key: err = %v, want ErrNotFound", err)
	}
	if _, _, err := s.GetVersion(ctx, "session:old"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("GetVersion of an expired key: err = %v, want ErrNotFound", err)
	}
	if err := s.SetIf(ctx, "session:old", nil, []byte("new"), time.Hour); err != nil {
		t.Fatalf("create over an expired key: %v", err)
	}
	if got, _ := s.Get(ctx, "session:old"); string(got) != "new" {
		t.Fatalf("value = %q, want new", got)
	}
}

func TestDeleteIfNilVersion(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, t.TempDir())
	if err := s.DeleteIf(ctx, "session:none", nil); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("DeleteIf(nil) of an absent key: err = %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, "session:empty", nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIf(ctx, "session:empty", nil); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("DeleteIf(nil) of a key holding an empty value: err = %v, want ErrConflict", err)
	}
	_, version, err := s.GetVersion(ctx, "session:empty")
	if err != nil || version == nil {
		t.Fatalf("GetVersion of an empty value = %v, %v; want a non-nil empty version", version, err)
	}
	if err := s.DeleteIf(ctx, "session:empty", version); err != nil {
		t.Fatalf("DeleteIf of an empty value with its version: %v", err)
	}
}
