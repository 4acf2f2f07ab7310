package livestorm

// ResourceID identifies a resource the way JSON:API does: its type ("events",
// "sessions", "people") and its id. The gateway's graph renders it as the object's
// global id without a resolver of its own (see graph/model.MarshalNodeID).
type ResourceID struct{ Type, ID string }

// ResourceID identifies the event.
func (e *Event) ResourceID() ResourceID { return ResourceID{Type: "events", ID: e.ID} }

// ResourceID identifies the session.
func (s *Session) ResourceID() ResourceID { return ResourceID{Type: "sessions", ID: s.ID} }

// BreakoutRoomParent identifies the session a breakout room belongs to (nil for a
// session that is not a breakout room).
func (s *Session) BreakoutRoomParent() *ResourceID {
	if s.BreakoutRoomParentSessionID == nil || *s.BreakoutRoomParentSessionID == "" {
		return nil
	}
	return &ResourceID{Type: "sessions", ID: *s.BreakoutRoomParentSessionID}
}

// ResourceID identifies the person.
func (p *Person) ResourceID() ResourceID { return ResourceID{Type: "people", ID: p.ID} }
