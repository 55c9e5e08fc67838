// Package codec turns session data into bytes and back, in the formats the
// Python peers use: Flask and Quart's tagged JSON (the default), Django's
// plain JSON and signed session_data, and encoding/gob for Go-only
// deployments. Each codec is a core.Codec. The types Tuple and UUID carry
// Python values that plain Go types cannot tell apart.
package codec
