package livestormsim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestLog(t *testing.T) {
	h := newHarness(t, nil)
	ev := h.sim.Events(h.org.ID)[0]
	h.sim.ResetRequests()
	h.get("/events/"+ev.ID+"/sessions?page[size]=2").must(t, http.StatusOK)
	h.do("GET", "/events", "", nil).must(t, http.StatusUnauthorized)
	h.do("GET", "/sessions/"+ev.SessionIDs[0]+"/people/someone", h.org2.Token, nil).must(t, http.StatusNotFound)

	reqs := h.sim.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, RequestRecord{Time: reqs[0].Time, OrgID: h.org.ID, Method: "GET", Path: "/events/" + ev.ID + "/sessions",
		Route: "/events/{id}/sessions", Query: "page[size]=2", Status: 200}, reqs[0])
	assert.Equal(t, "", reqs[1].OrgID)
	assert.Equal(t, 401, reqs[1].Status)
	assert.Equal(t, "/events", reqs[1].Route)
	assert.Equal(t, "/sessions/{id}/people/{people_id}", reqs[2].Route)
	assert.Equal(t, h.org2.ID, reqs[2].OrgID)
	assert.Equal(t, 3, h.sim.RequestCount())
	assert.Equal(t, 2, h.sim.CountRequests(func(r RequestRecord) bool { return r.OrgID != "" }))
	h.sim.ResetRequests()
	assert.Zero(t, h.sim.RequestCount())
	assert.Empty(t, h.sim.Requests())
}
