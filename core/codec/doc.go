// Package codec turns session data into bytes and back, in the formats the
// Python peers use: Flask and Quart's tagged JSON (the default), Django's
// plain JSON and signed session_data, and encoding/gob for Go-only
// deployments. Each codec is a core.Codec. The types Tuple and UUID carry
// Python values that plain Go types cannot tell apart.
//
// Stored sessions may hold what clients chose, so decoding is bounded
// whatever the input: no codec's Decode allocates more than 16 bytes for
// each byte of input (counting input under 16 KiB as 16 KiB), nor nests
// deeper than 512 levels; input that would is refused with an error
// wrapping ErrTooLarge or ErrTooDeep.
package codec
