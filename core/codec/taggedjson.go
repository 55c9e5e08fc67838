package codec

// TaggedJSON is the default Codec. It writes the format of Flask's
// TaggedJSONSerializer, which Quart and Quart-Session use too, so that a
// Go service and a Python one can share the same session store. Output is
// byte-for-byte what Python writes, except that map keys are sorted where
// Python keeps insertion order.
//
// Decoded values have these Go types: string, bool, nil, int64 for integral
// numbers (json.Number when they do not fit), float64, []any,
// map[string]any, Tuple, []byte, template.HTML, UUID and time.Time (UTC).
// Encoding accepts those and also every Go integer and float type,
// []string, map[string]string, json.Number, named [16]byte UUID types, and
// other slices, maps and structs through their encoding/json form.
type TaggedJSON struct{}

// Encode writes data as Flask's session serializer would. A nil map is
// written as {} so that it still decodes as a session.
func (TaggedJSON) Encode(data map[string]any) ([]byte, error) {
	if data == nil {
		data = map[string]any{}
	}
	return marshal(data, false)
}

// Decode reads a session that Flask, Quart or Encode wrote. A session must
// be an object, so any other top-level value is an error, as is malformed
// input.
//
// Decode allocates at most 16 bytes for each byte of b, counting b as
// 16 KiB when it is shorter, whatever b holds, the error it may return
// included: input whose values would take more, such as hundreds of
// kilobytes of empty or one-member objects, is refused part way with an
// error wrapping ErrTooLarge. Sessions of real shapes take a few bytes
// for each byte of input.
func (TaggedJSON) Decode(b []byte) (map[string]any, error) {
	v, err := unmarshal(b, false)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errNotObject
	}
	return m, nil
}

// MarshalTagged encodes a single value in tagged JSON, for callers that
// keep values other than whole sessions in a store shared with Python.
func MarshalTagged(v any) ([]byte, error) {
	return marshal(v, false)
}

// UnmarshalTagged decodes a single tagged-JSON value of any kind; it is the
// inverse of MarshalTagged. It allocates within the bound that
// TaggedJSON.Decode documents.
func UnmarshalTagged(b []byte) (any, error) {
	return unmarshal(b, false)
}

// maxDepth bounds the nesting of arrays and objects, in both directions, so
// that hostile input cannot exhaust the stack and nothing is written that
// could not be read back.
const maxDepth = 512

// The tags of Flask's serializer.
const (
	tagTuple    = " t"
	tagBytes    = " b"
	tagMarkup   = " m"
	tagUUID     = " u"
	tagDateTime = " d"
	tagDict     = " di"
)

func isTag(k string) bool {
	if len(k) < 2 || k[0] != ' ' {
		return false
	}
	switch k {
	case tagTuple, tagBytes, tagMarkup, tagUUID, tagDateTime, tagDict:
		return true
	}
	return false
}

// httpDate is the layout of werkzeug's http_date, which Flask uses for the
// " d" tag.
const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"
