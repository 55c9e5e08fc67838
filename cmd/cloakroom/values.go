package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cloakroom/cloakroom/core/codec"
)

// kind names the type of a decoded session value in words, as the codecs
// make them (core/codec): string, integer, float, boolean, list, tuple,
// bytes, UUID, datetime, markup, map or null; Go's name of anything else.
func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "float"
		}
		return "integer"
	case float32, float64:
		return "float"
	case []any:
		return "list"
	case codec.Tuple:
		return "tuple"
	case []byte:
		return "bytes"
	case codec.UUID:
		return "UUID"
	case time.Time:
		return "datetime"
	case template.HTML:
		return "markup"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

// text renders a decoded value on one line: strings quoted, bytes as
// b"...", a tuple in parentheses, a map with its keys sorted, datetimes in
// RFC 3339 UTC. Nested UUIDs and markup say what they are, which the type
// column says of a top-level value.
func text(v any, top bool) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return string(v)
	case float64:
		return floatText(v, 64)
	case float32:
		return floatText(float64(v), 32)
	case []any:
		return "[" + join(v) + "]"
	case codec.Tuple:
		if len(v) == 1 {
			return "(" + text(v[0], false) + ",)"
		}
		return "(" + join(v) + ")"
	case []byte:
		return "b" + strconv.Quote(string(v))
	case codec.UUID:
		if top {
			return v.String()
		}
		return `UUID("` + v.String() + `")`
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case template.HTML:
		if top {
			return strconv.Quote(string(v))
		}
		return "Markup(" + strconv.Quote(string(v)) + ")"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ": " + text(v[k], false)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if n, ok := codec.Int(v); ok {
		return strconv.FormatInt(n, 10)
	}
	return safe(fmt.Sprint(v))
}

func join(list []any) string {
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = text(e, false)
	}
	return strings.Join(parts, ", ")
}

// floatText writes a float as Python does: with a fraction, 2.0 not 2.
func floatText(f float64, bits int) string {
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if !strings.ContainsAny(s, ".eEnN") { // NaN, +Inf
		s += ".0"
	}
	return s
}

// jsonValue returns a decoded value as plain JSON can hold it: bytes in
// standard base64, a UUID in its canonical form, a datetime in RFC 3339
// UTC, markup as its text, a tuple as a list, a float that JSON cannot
// hold (NaN, infinities) as its name.
func jsonValue(v any) any {
	switch v := v.(type) {
	case nil, string, bool, json.Number:
		return v
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return v
	case float32:
		return jsonValue(float64(v))
	case []any:
		return jsonList(v)
	case codec.Tuple:
		return jsonList(v)
	case []byte:
		return base64.StdEncoding.EncodeToString(v)
	case codec.UUID:
		return v.String()
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case template.HTML:
		return string(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = jsonValue(e)
		}
		return out
	}
	if n, ok := codec.Int(v); ok {
		return n
	}
	return fmt.Sprint(v)
}

func jsonList(list []any) []any {
	out := make([]any, len(list))
	for i, e := range list {
		out[i] = jsonValue(e)
	}
	return out
}

// maxText is the most of a value that show prints on its line; -json
// prints it whole.
const maxText = 512

// clip shortens a long rendered value, saying how much it left out.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes; -json shows it whole)", s[:cut], len(s)-cut)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// safe returns s as it is when it prints as one plain word, quoted
// otherwise, so that what the store holds cannot move the terminal's
// cursor or split a column.
func safe(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}
