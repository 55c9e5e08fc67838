package memcached

import (
	"errors"
	"fmt"
	"strings"
)

// scheme is the optional prefix of Open's server addresses.
const scheme = "memcached://"

// parseServers splits Open's comma-separated server list into addresses
// for memcache.ServerList: "host:port" or a Unix socket path. Each entry
// may carry the memcached:// prefix, and a trailing slash after a
// host:port ("memcached://host:11211/") is dropped, so that a URL copied
// from a configuration works; an empty entry or another scheme is an error.
func parseServers(servers string) ([]string, error) {
	if strings.TrimSpace(servers) == "" {
		return nil, errors.New("no servers given")
	}
	var addrs []string
	for entry := range strings.SplitSeq(servers, ",") {
		addr, err := parseServer(strings.TrimSpace(entry))
		if err != nil {
			return nil, fmt.Errorf("server list %q: %w", servers, err)
		}
		addrs = append(addrs, addr)
	}
	return addrs, nil
}

// parseServer turns one entry of Open's list into an address.
func parseServer(entry string) (string, error) {
	addr, hadScheme := strings.CutPrefix(entry, scheme)
	if hadScheme && !strings.HasPrefix(addr, "/") {
		addr = strings.TrimSuffix(addr, "/")
	}
	switch {
	case addr == "":
		return "", errors.New("empty server address")
	case strings.Contains(addr, "://"):
		return "", fmt.Errorf("server %q: only the %s scheme is supported", entry, scheme)
	}
	return addr, nil
}
