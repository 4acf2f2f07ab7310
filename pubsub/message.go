// Package pubsub carries Livestorm notifications from the webhook receiver to the
// GraphQL subscriptions, per workspace.
package pubsub

import (
	"time"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// Message is one Livestorm webhook delivery as subscribers see it. It names what changed
// by id, so subscribers read the current state through fresh loaders, and carries the
// resources whose delivered state is the freshest there is (the person of a people.*
// event, the job of a job.* event). It is plain data, so a bus can serialize it.
type Message struct {
	// Scope is the workspace's tenant scope (tenant.ScopeForOrg): the topic.
	Scope string `json:"scope"`
	// ID identifies the delivery, for de-duplication across replicas.
	ID string `json:"id"`
	// Name is Livestorm's event name, e.g. "people.registered".
	Name string `json:"name"`
	// OccurredAt is when the gateway received the delivery.
	OccurredAt time.Time `json:"occurredAt"`

	EventID   string `json:"eventId,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
	PersonID  string `json:"personId,omitempty"`
	JobID     string `json:"jobId,omitempty"`

	Person *livestorm.Person `json:"person,omitempty"`
	Job    *livestorm.Job    `json:"job,omitempty"`

	// TraceParent is the W3C traceparent of the webhook delivery's processing span when
	// it was traced, so each subscription event's span can link to it.
	TraceParent string `json:"traceparent,omitempty"`
	// Cursor is the message's position in its workspace's stream (see Cursor), set by the
	// bus when it sequences the message: a subscriber that reconnects passes the last
	// cursor it saw to SubscribeAfter and misses nothing. It is not part of the payload a
	// bus serializes: the position is the stream's.
	Cursor string `json:"-"`
	// Fallback marks a message the bus could not sequence (its shared stream was
	// unreachable): it is delivered to this process's subscribers only, with the cursor
	// of the last sequenced message of its scope, and is never taken for a duplicate of a
	// replayed one.
	Fallback bool `json:"-"`

	// Err is never published: a subscription stream sets it on the last message it
	// hands to its transport when the gateway ends the stream itself (e.g. the
	// subscriber was too slow), so that transports without an error frame (SSE) can
	// still tell the client why.
	Err error `json:"-"`

	// pos is Cursor parsed, set where Cursor is; zero for unsequenced messages.
	pos Cursor
}
