package model

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
)

func written(m graphql.Marshaler) string {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	return b.String()
}

func TestEnumNamesFromLivestormValues(t *testing.T) {
	cases := []struct {
		marshal func(string) graphql.Marshaler
		in, out string
	}{
		{MarshalSessionStatusName, "past_not_started", `"PAST_NOT_STARTED"`},
		{MarshalSessionStatusName, "live", `"LIVE"`},
		{MarshalSessionStatusName, "LIVE", `"LIVE"`},
		{MarshalSessionStatusName, "rescheduled", `"UNKNOWN"`}, // a value Livestorm added later
		{MarshalSessionStatusName, "", `"UNKNOWN"`},
		{MarshalEventStatusName, "published", `"PUBLISHED"`},
		{MarshalEventSchedulingStatusName, "on_demand", `"ON_DEMAND"`},
		{MarshalEventSchedulingStatusName, "not.scheduled", `"NOT_SCHEDULED"`},
		{MarshalPersonRoleName, "team_member", `"TEAM_MEMBER"`},
		{MarshalPersonRoleName, "speaker", `"UNKNOWN"`},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.out, written(tc.marshal(tc.in)), tc.in)
	}
	allocs := testing.AllocsPerRun(100, func() { _ = MarshalSessionStatusName("past_not_started") })
	assert.Zero(t, allocs, "a known value is written by a marshaler built once")
}

func TestEnumTypesReadInput(t *testing.T) {
	var s SessionStatus
	require.NoError(t, s.UnmarshalGQL("PAST"))
	assert.Equal(t, SessionStatusPast, s)
	assert.ErrorContains(t, s.UnmarshalGQL("past"), "not a valid SessionStatus")
	assert.ErrorContains(t, s.UnmarshalGQL(3), "enums must be strings")
	var r PersonRole
	require.NoError(t, r.UnmarshalJSON([]byte(`"TEAM_MEMBER"`)))
	b, err := r.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `"TEAM_MEMBER"`, string(b))
	v, err := UnmarshalEventStatusName("DRAFT")
	require.NoError(t, err)
	assert.Equal(t, "draft", v)
	_, err = UnmarshalEventStatusName("NOPE")
	assert.Error(t, err)
}

func TestNodeIDs(t *testing.T) {
	ev := &livestorm.Event{ID: "e1"}
	assert.Equal(t, `"`+GlobalID("Event", "e1")+`"`, written(MarshalNodeID(ev.ResourceID())))
	assert.Equal(t, `"RXZlbnQ6ZTE"`, written(MarshalNodeID(ev.ResourceID())), "base64url of Event:e1, unpadded")
	var sb strings.Builder // a writer other than gqlgen's bytes.Buffer
	MarshalNodeID(ev.ResourceID()).MarshalGQL(&sb)
	assert.Equal(t, `"RXZlbnQ6ZTE"`, sb.String())
	assert.Equal(t, graphql.Null, MarshalNodeID(livestorm.ResourceID{Type: "unknown", ID: "x"}))
	s := &livestorm.Session{ID: "s1"}
	assert.Nil(t, s.BreakoutRoomParent())
	parent := "s0"
	s.BreakoutRoomParentSessionID = &parent
	assert.Equal(t, `"`+GlobalID("Session", "s0")+`"`, written(MarshalNodeID(*s.BreakoutRoomParent())))
	r := NewRegistration(&livestorm.Person{ID: "p1"}, "s1", "e1")
	assert.Equal(t, GlobalID("Registration", "s1", "p1"), r.ID())
	assert.Equal(t, `"`+r.ID()+`"`, written(r.NodeID()))
	sb.Reset()
	r.NodeID().MarshalGQL(&sb)
	assert.Equal(t, `"`+r.ID()+`"`, sb.String())
	r = NewRegistration(&livestorm.Person{ID: "p1"}, "", "e1")
	assert.Equal(t, GlobalID("Registration", "event", "e1", "p1"), r.ID())
	assert.Equal(t, `"`+r.ID()+`"`, written(r.NodeID()))
	allocs := testing.AllocsPerRun(100, func() { var m graphql.Marshaler = r.NodeID(); _ = m })
	assert.Zero(t, allocs, "a registration's id is a pointer-sized value")
}
