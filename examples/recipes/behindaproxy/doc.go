// Package behindaproxy is the code of the recipe "Behind a proxy, with
// session protection" (docs/recipes/behind-a-proxy.md): sessions pinned to
// the client's address, which the application learns from the
// X-Forwarded-For header of its own proxies and of no one else.
package behindaproxy
