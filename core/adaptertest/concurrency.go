package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// fetchOK requests path and fails unless it answers 200.
func (e *env) fetchOK(path, cookie string) (response, error) {
	r, err := e.fetch(path, cookie)
	if err == nil && r.status != http.StatusOK {
		err = fmt.Errorf("%s = %d %q", path, r.status, r.body)
	}
	return r, err
}

// testConcurrentIncrements has 50 clients of one session increment a
// counter at once: every increment must count.
func testConcurrentIncrements(t *testing.T, e *env) {
	const clients, rounds = 50, 4
	cookie := e.login("user", "alice")
	backendtest.Parallel(t, clients, func(int) error {
		for range rounds {
			if _, err := e.fetchOK("/incr", cookie); err != nil {
				return err
			}
		}
		return nil
	})
	r := e.get("/get-int?k=n", cookie)
	if want := strconv.Itoa(clients * rounds); r.body != want {
		t.Errorf("counter after %s concurrent increments = %q", want, r.body)
	}
}

// testConcurrentKeys has 50 clients of one session each set a key of its
// own at once: every key must survive.
func testConcurrentKeys(t *testing.T, e *env) {
	const clients = 50
	cookie := e.login("user", "alice")
	backendtest.Parallel(t, clients, func(i int) error {
		_, err := e.fetchOK(fmt.Sprintf("/set?k=k%d&v=%d", i, i), cookie)
		return err
	})
	for i := range clients {
		if r := e.get(fmt.Sprintf("/get?k=k%d", i), cookie); r.body != strconv.Itoa(i) {
			t.Errorf("key k%d = %q after concurrent writes, want %d", i, r.body, i)
		}
	}
}

// testEndWhileWriting logs out (or logs in, which regenerates the id) while
// other requests of the same session are in flight: the old id must never
// hold data again. The writers' requests either succeed, or answer 409
// (core.ErrInterrupted) when the session ended under them.
func testEndWhileWriting(route string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		const trials, writers, rounds = 3, 8, 15
		for range trials {
			cookie := e.login("user", "alice")
			done := make(chan error, 1)
			started := make(chan struct{})
			var once sync.Once
			go func() {
				<-started // end the session while the writers are busy
				r, err := e.fetch(route, cookie)
				if err == nil && r.status != http.StatusNoContent {
					err = fmt.Errorf("%s = %d %q", route, r.status, r.body)
				}
				done <- err
			}()
			backendtest.Parallel(t, writers, func(i int) error {
				for n := range rounds {
					if n == 2 {
						once.Do(func() { close(started) })
					}
					r, err := e.fetch(fmt.Sprintf("/set?k=w%d&v=%d", i, n), cookie)
					if err != nil {
						return err
					}
					if r.status != http.StatusOK && r.status != http.StatusConflict {
						return fmt.Errorf("writer: %d %q", r.status, r.body)
					}
				}
				return nil
			})
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			key := e.m.KeyPrefix + cookie
			if _, err := e.backend.Store().Get(context.Background(), key); !errors.Is(err, core.ErrNotFound) {
				t.Fatalf("after %s, the old id holds data again (err %v): a request in flight revived it", route, err)
			}
		}
	}
}
