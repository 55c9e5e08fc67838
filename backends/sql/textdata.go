package sqlstore

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"unicode/utf8"
)

// textMarker starts the stored form of a value that a text column cannot
// hold as it is (not UTF-8, has a NUL byte, or starts with the marker).
const textMarker = "cloakroom:base64:"

// encodeText returns the text stored in a TextData column for value.
func encodeText(value []byte) string {
	if utf8.Valid(value) && bytes.IndexByte(value, 0) < 0 && !bytes.HasPrefix(value, []byte(textMarker)) {
		return string(value)
	}
	return textMarker + base64.StdEncoding.EncodeToString(value)
}

// decodeText reverses encodeText on the bytes read from a TextData column.
func decodeText(stored []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(stored, []byte(textMarker))
	if !ok {
		return stored, nil
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(rest)))
	n, err := base64.StdEncoding.Decode(out, rest)
	if err != nil {
		return nil, fmt.Errorf("decode %s value: %w", textMarker, err)
	}
	return out[:n], nil
}
