package graph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/pubsub"
)

func TestSubscriptionFilters(t *testing.T) {
	ptr := func(s string) *string { return &s }
	registration := &pubsub.Message{Name: "people.registered", EventID: "e1", SessionID: "s1", PersonID: "p1"}
	started := &pubsub.Message{Name: "session.started", EventID: "e1", SessionID: "s1"}
	notAttended := &pubsub.Message{Name: "people.not_attended", EventID: "e2", SessionID: "s2"}
	job := &pubsub.Message{Name: "job.ended", JobID: "j1"}
	all := []*pubsub.Message{registration, started, notAttended, job}
	ids := func(accept func(*pubsub.Message) bool, eventID, sessionID, jobID *string) pubsub.Filter {
		f, err := ids(accept, eventID, sessionID, jobID)
		require.NoError(t, err)
		return f
	}

	cases := []struct {
		name   string
		filter pubsub.Filter
		want   []*pubsub.Message
	}{
		{"registrations", ids(names("people.registered"), nil, nil, nil), []*pubsub.Message{registration}},
		{"registrations of another session", ids(names("people.registered"), nil, ptr("s2"), nil), nil},
		{"session changes of an event", ids(names("session.created", "session.started", "session.ended"), ptr("e1"), nil, nil), []*pubsub.Message{started}},
		{"attendance of a session", ids(names("people.attended", "people.not_attended"), ptr("e2"), ptr("s2"), nil), []*pubsub.Message{notAttended}},
		{"one job", ids(names("job.ended"), nil, nil, ptr("j1")), []*pubsub.Message{job}},
		{"one job by global id", ids(names("job.ended"), nil, nil, ptr(globalID(kindJob, "j1"))), []*pubsub.Message{job}},
		{"a session by global id", ids(names("people.registered"), nil, ptr(globalID(kindSession, "s1")), nil), []*pubsub.Message{registration}},
		{"another job", ids(names("job.ended"), nil, nil, ptr("j2")), nil},
		{"livestormEvents of two types", typesFilter([]model.LivestormEventType{model.LivestormEventTypePeopleNotAttended, model.LivestormEventTypeJobEnded}), []*pubsub.Message{notAttended, job}},
		{"livestormEvents of any type", typesFilter(nil), all},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []*pubsub.Message
			for _, m := range all {
				if tc.filter == nil || tc.filter(m) {
					got = append(got, m)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSubscriptionFiltersRefuseIdsOfAnotherType(t *testing.T) {
	_, err := ids(names("people.registered"), nil, &[]string{globalID(kindPerson, "p1")}[0], nil)
	var in *InputError
	require.ErrorAs(t, err, &in)
	assert.Equal(t, "sessionId", in.Field)
	assert.Contains(t, in.Message, "Person")
}

func TestNotificationTypeReportsTheEndOfAStream(t *testing.T) {
	typ, err := notificationType(&pubsub.Message{Name: "people.watched_replay"})
	assert.NoError(t, err)
	assert.Equal(t, model.LivestormEventTypePeopleWatchedReplay, typ)
	typ, err = notificationType(&pubsub.Message{Name: "poll.answered"})
	assert.NoError(t, err)
	assert.Equal(t, model.LivestormEventTypeUnknown, typ)
	_, err = notificationType(&pubsub.Message{Err: assert.AnError})
	assert.ErrorIs(t, err, assert.AnError)
}
