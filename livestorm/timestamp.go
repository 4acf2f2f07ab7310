package livestorm

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Livestorm sends instants as integer Unix seconds and uses 0 (and sometimes
// null) for "has not happened yet". Requests and a few third-party captures
// use date strings instead, so parsing accepts those too.

// requestTimeLayout is the layout Livestorm's own examples use for
// estimated_started_at in request bodies.
const requestTimeLayout = "2006-01-02 15:04:05"

var stringTimeLayouts = []string{
	time.RFC3339Nano,
	requestTimeLayout,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02",
}

// parseTimeValue decodes a JSON value holding an instant. ok is false when the
// value is present but cannot be read as a time; null, 0 and "" are the zero
// time with ok true.
func parseTimeValue(raw json.RawMessage) (t time.Time, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return time.Time{}, true
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}, false
		}
		return parseTimeString(s)
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil {
		return time.Time{}, false
	}
	return unixSeconds(f)
}

func parseTimeString(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return time.Time{}, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return unixSeconds(f)
	}
	for _, layout := range stringTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func unixSeconds(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return time.Time{}, false
	}
	if f == 0 {
		return time.Time{}, true
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
}

// unixQuery renders t as Unix seconds for filter query parameters.
func unixQuery(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
