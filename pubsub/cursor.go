package pubsub

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrReplayUnavailable is returned by SubscribeAfter when the messages after the cursor
// are no longer all retained (older than the replay window, beyond its count bound, or
// issued by another bus: a restarted process, a Redis that lost its data), or when the
// replay store cannot be reached. The client cannot be told exactly what it missed: it
// should refetch what it shows and subscribe again without a cursor.
var ErrReplayUnavailable = errors.New("pubsub: replay unavailable")

// ErrInvalidCursor is returned by SubscribeAfter for a cursor this gateway never issues.
var ErrInvalidCursor = errors.New("pubsub: not a subscription cursor")

// replayUnavailable wraps ErrReplayUnavailable with why.
func replayUnavailable(reason string) error {
	return fmt.Errorf("%w: %s", ErrReplayUnavailable, reason)
}

// ReplayUnavailable returns an error matching ErrReplayUnavailable that says why; bus
// implementations outside this package use it.
func ReplayUnavailable(reason string) error { return replayUnavailable(reason) }

// Cursor is a message's position in its scope's stream: two numbers compared in order.
// Redis stream ids ("<ms>-<seq>") are cursors as they are; the in-process bus issues
// "<boot>-<seq>" (its start time in ms, then a per-scope sequence number), so cursors of
// another process never pass for its own.
type Cursor struct{ Hi, Lo uint64 }

// ParseCursor reads "<hi>-<lo>".
func ParseCursor(s string) (Cursor, error) {
	hi, lo, ok := strings.Cut(s, "-")
	if !ok {
		return Cursor{}, ErrInvalidCursor
	}
	h, err1 := strconv.ParseUint(hi, 10, 64)
	l, err2 := strconv.ParseUint(lo, 10, 64)
	if err1 != nil || err2 != nil {
		return Cursor{}, ErrInvalidCursor
	}
	return Cursor{h, l}, nil
}

func (c Cursor) String() string {
	return strconv.FormatUint(c.Hi, 10) + "-" + strconv.FormatUint(c.Lo, 10)
}

// After reports whether c comes after d.
func (c Cursor) After(d Cursor) bool { return c.Hi > d.Hi || (c.Hi == d.Hi && c.Lo > d.Lo) }

// IsZero reports whether c is the zero cursor (before every message).
func (c Cursor) IsZero() bool { return c == Cursor{} }
