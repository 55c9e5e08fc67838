package backendtest

import (
	"net"
	"testing"
)

// ClosedAddr returns a loopback "host:port" on which nothing listens, for
// tests of a backend whose server cannot be reached: connecting to it is
// refused at once.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
