// Package bench measures cloakroom against other Go session libraries on
// the same machine in one run: scs and gorilla/sessions on net/http,
// gin-contrib/sessions on gin, and Fiber's session package on Fiber v2 and
// v3; on Echo v5, for which echo-contrib's sessions have no release,
// cloakroom runs alone. BenchmarkRedis puts cloakroom over Redis next to
// the same handlers written with go-redis, end to end through loopback
// sockets.
// It is a module of its own so that the peers never become dependencies of
// the library. Everything is in its tests: run
//
//	go test -run '^$' -bench . -benchmem
//
// or `go run ./cmd/benchtable` for a markdown table of medians and ratios.
// `go run ./cmd/soak` puts the demo under a long, steady load and checks
// that it stays flat (README.md, "Soak").
package bench
