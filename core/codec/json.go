package codec

import (
	"errors"
)

// JSON is plain JSON, the format Django keeps sessions in, for sharing a
// store with a Django application or for tools that do not know Flask's
// tags. It writes what Python's json.dumps writes with compact separators,
// and decodes to the same Go types as TaggedJSON does for plain values.
//
// Plain JSON cannot tell the special types from strings and lists, so they
// do not survive a round trip: a Tuple is written as a list, []byte as
// standard base64, template.HTML as its text, a UUID in its hyphenated
// form and a time.Time in RFC 3339 with nanoseconds, as encoding/json does.
type JSON struct{}

// Encode writes data with sorted keys; a nil map is written as {}.
func (JSON) Encode(data map[string]any) ([]byte, error) {
	if data == nil {
		data = map[string]any{}
	}
	return marshal(data, true)
}

// Decode reads a JSON object. Objects that look like Flask tags are kept
// as they are, since plain JSON has no tags. It allocates within the bound
// that TaggedJSON.Decode documents, refusing input that would take more
// with an error wrapping ErrTooLarge.
func (JSON) Decode(b []byte) (map[string]any, error) {
	v, err := unmarshal(b, true)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("cloakroom: JSON: session is not an object")
	}
	return m, nil
}
