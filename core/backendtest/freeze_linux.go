package backendtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Freeze stops a server process the test started (SIGSTOP), as a server
// that hangs: its connections stay open and the kernel still accepts new
// ones, but nothing answers. It returns once every thread is stopped,
// since kill(2) returns before the signal takes effect and a thread still
// running would answer the next request. Thaw undoes it.
func Freeze(t testing.TB, p *os.Process) {
	t.Helper()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP pid %d: %v", p.Pid, err)
	}
	tasks := fmt.Sprintf("/proc/%d/task", p.Pid)
	for deadline := time.Now().Add(5 * time.Second); !allStopped(tasks); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not stop within 5s of SIGSTOP", p.Pid)
		}
	}
}

// Thaw lets a process stopped by Freeze run again.
func Thaw(t testing.TB, p *os.Process) {
	t.Helper()
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT pid %d: %v", p.Pid, err)
	}
}

// allStopped reports whether every thread under a /proc/PID/task folder is
// in state T (stopped).
func allStopped(tasks string) bool {
	entries, err := os.ReadDir(tasks)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join(tasks, e.Name(), "stat"))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
			return false
		}
	}
	return true
}
