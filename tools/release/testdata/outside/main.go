// Command outside is a program outside the cloakroom repository that uses
// its modules as published: scripts/release-check.sh copies it into an
// empty directory, fetches a release packed by tools/release into it, and
// builds and tests it there. Its tests use every library module: each
// adapter serves requests in process (adapters_test.go), each backend
// saves and loads a session or, when its server is not running, fails
// promptly (backends_test.go), and otelcloakroom observes a Manager
// (otel_test.go).
//
// Run, it builds the visit counter of adapters.go on every adapter, over
// the memory backend.
package main

import (
	"fmt"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

func main() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)
	_, _, _, _ = newNetHTTP(m), newGin(m), newEcho(m), newEcho5(m)
	_, _ = newFiber(m), newFiber3(m)
	fmt.Println("the visit counter is built on net/http, gin, echo, echo5, fiber and fiber3")
}
