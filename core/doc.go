// Package core implements server-side sessions independent of any web
// framework: the session lifecycle, the Backend and Codec interfaces, the
// tagged-JSON codec shared with Flask and Quart, id signing and IP
// protection. Adapters in cloakroom/adapters plug a Manager into a framework;
// backends in cloakroom/backends keep the data.
package core
