package demo

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

// entry is one session key on the page: its value as people read it, its
// type in words, and the tagged JSON it is stored as.
type entry struct {
	Key, Type, Value, Tagged string
}

// newEntry describes v, the value under key.
func newEntry(key string, v any) entry {
	b, err := codec.MarshalTagged(v)
	if err != nil {
		return entry{Key: key, Type: typeName(v), Value: fmt.Sprint(v), Tagged: "(not representable)"}
	}
	return entry{Key: key, Type: typeName(v), Value: readable(v, string(b)), Tagged: string(b)}
}

// typeName says what kind of value v is, in the words of someone who never
// used Flask, with Python's name for it where the two differ.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case int64, int, int32:
		return "whole number"
	case float64, float32:
		return "decimal number"
	case bool:
		return "true or false"
	case nil:
		return "nothing (None)"
	case []any:
		return "list"
	case codec.Tuple:
		return "tuple (a list Python keeps unchangeable)"
	case map[string]any:
		return "mapping (dict)"
	case []byte:
		return "bytes"
	case template.HTML:
		return "HTML markup"
	case codec.UUID:
		return "UUID"
	case time.Time:
		return "date and time"
	}
	return fmt.Sprintf("%T", v)
}

// readable writes v as the page shows it: text quoted, a date in UTC,
// bytes in base64, composites as tagged, their tagged JSON.
func readable(v any, tagged string) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []byte:
		return base64.StdEncoding.EncodeToString(v) + " (base64)"
	case template.HTML:
		return string(v)
	case codec.UUID:
		return v.String()
	case time.Time:
		return v.UTC().Format("2006-01-02 15:04:05 UTC")
	case nil:
		return "None"
	}
	return tagged
}

// example is a value to type into the page's form, for one type.
type example struct{ Type, Input string }

// examples show what the form's value box accepts: JSON, where an object
// with one key that starts with a space names a type JSON lacks, as Flask
// stores it.
var examples = []example{
	{"text", `"hello"`},
	{"whole number", `42`},
	{"decimal number", `3.5`},
	{"true or false", `true`},
	{"nothing (None)", `null`},
	{"list", `[1, "two", 3]`},
	{"mapping (dict)", `{"theme": "dark"}`},
	{"tuple (a list Python keeps unchangeable)", `{" t": [1, 2]}`},
	{"bytes", `{" b": "aGVsbG8="}`},
	{"HTML markup", `{" m": "<b>bold</b>"}`},
	{"UUID", `{" u": "6f1c5f0a4a3e4a57b1bd1a3c3f9e2d10"}`},
	{"date and time", `{" d": "Sun, 06 Dec 2026 12:00:00 GMT"}`},
}
