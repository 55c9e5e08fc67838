package core

// Codec turns session data into bytes for a Backend and back.
//
// Decode must accept everything Encode produces and must never panic on
// arbitrary input; malformed input returns an error.
type Codec interface {
	Encode(data map[string]any) ([]byte, error)
	Decode(b []byte) (map[string]any, error)
}
