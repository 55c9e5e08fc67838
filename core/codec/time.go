package codec

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

var (
	weekdayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	monthNames   = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// appendHTTPDate writes t in werkzeug's http_date form, in GMT and without
// sub-seconds, as Flask does for the " d" tag.
func appendHTTPDate(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return b, fmt.Errorf("cloakroom: tagged JSON: year %d out of range", y)
	}
	h, mi, s := t.Clock()
	b = append(b, weekdayNames[t.Weekday()]...)
	b = append(b, ',', ' ', byte('0'+d/10), byte('0'+d%10), ' ')
	b = append(b, monthNames[mo-1]...)
	b = append(b, ' ', byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), ' ',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10))
	return append(b, " GMT"...), nil
}

// maxDateText is longer than any date parseTime accepts but for one with
// absurdly many digits of sub-seconds.
const maxDateText = 64

// parseTime reads the " d" tag: werkzeug's http_date as Flask writes it
// (with a fast path for it), the other HTTP date forms that werkzeug's
// parse_date accepts, and the ISO 8601 form Quart 0.18 and older wrote.
// ISO times keep their sub-seconds; times without an offset are UTC.
func parseTime(s string) (time.Time, error) {
	if t, ok := parseHTTPDate(s); ok {
		return t, nil
	}
	// Every layout that fails allocates an error, which quotes the text:
	// only those that the text's shape allows are tried, and only on text
	// no longer than a date, so that a date costs little memory.
	if len(s) > maxDateText {
		return time.Time{}, fmt.Errorf("cloakroom: tagged JSON: bad date: %d bytes", len(s))
	}
	type form struct {
		layout string
		ok     bool
	}
	iso := len(s) >= len("2006-01-02T15:04:05") && s[4] == '-'
	forms := [...]form{
		{time.RFC1123Z, len(s) > 3 && s[3] == ','},
		{time.RFC850, strings.HasSuffix(s, " GMT")},
		{time.ANSIC, len(s) > 3 && s[3] == ' '},
		{"2006-01-02T15:04:05Z07:00", iso && s[10] == 'T'},
		{"2006-01-02T15:04:05", iso && s[10] == 'T'},
		{"2006-01-02 15:04:05Z07:00", iso && s[10] == ' '},
		{"2006-01-02 15:04:05", iso && s[10] == ' '},
	}
	for _, f := range forms {
		if !f.ok {
			continue
		}
		t, err := time.ParseInLocation(f.layout, s, time.UTC)
		if err != nil {
			continue
		}
		t = t.UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			break
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cloakroom: tagged JSON: bad date %q", s)
}

// parseHTTPDate parses exactly "Mon, 02 Jan 2006 15:04:05 GMT".
func parseHTTPDate(s string) (time.Time, bool) {
	if len(s) != len(httpDate) || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
		s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	if !slices.Contains(weekdayNames[:], s[:3]) {
		return time.Time{}, false
	}
	mo := slices.Index(monthNames[:], s[8:11])
	if mo < 0 {
		return time.Time{}, false
	}
	num := func(p string) int {
		n := 0
		for i := 0; i < len(p); i++ {
			c := p[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	d, y, h, mi, sec := num(s[5:7]), num(s[12:16]), num(s[17:19]), num(s[20:22]), num(s[23:25])
	if d < 1 || y < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo+1), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // day past the end of the month
	}
	return t, true
}
