// Package core implements server-side sessions independent of any web
// framework: the session lifecycle, the Backend and Codec interfaces, and
// IP protection. The codecs (tagged JSON shared with Flask and Quart, JSON,
// gob, Django's) are in core/codec and id signing in core/signing.
// Adapters in cloakroom/adapters plug a Manager into a framework; backends
// in cloakroom/backends keep the data.
package core
