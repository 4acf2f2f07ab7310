package auth

import "strings"

// Role is what a caller may do. Roles are ordered, each including the one before:
// RoleNone < RolePublic < RoleViewer < RoleEditor < RoleAdmin, so "may this caller see
// a field that needs viewer" is r >= RoleViewer.
type Role int8

// The roles of design.md §8.
const (
	// RoleNone may do nothing: the anonymous role when AUTH_ANONYMOUS_ROLE=none, and the
	// role of a refused caller.
	RoleNone Role = iota
	// RolePublic is what a public event page needs: published events, their sessions,
	// counters and registration form, registerPerson.
	RolePublic
	// RoleViewer may read everything, personal data included.
	RoleViewer
	// RoleEditor may also write events, sessions, tags and registrations.
	RoleEditor
	// RoleAdmin may also manage team members and webhooks.
	RoleAdmin
)

// Roles lists the roles a caller can hold, lowest first (RoleNone excluded).
var Roles = []Role{RolePublic, RoleViewer, RoleEditor, RoleAdmin}

var roleNames = [...]string{RoleNone: "none", RolePublic: "public", RoleViewer: "viewer", RoleEditor: "editor", RoleAdmin: "admin"}

// String is the role's name as configuration, claims and logs spell it.
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return "invalid"
	}
	return roleNames[r]
}

// ParseRole reads a role name, ignoring case and surrounding space ("Admin", " viewer").
// "none" is RoleNone; anything else unknown is (RoleNone, false).
func ParseRole(s string) (Role, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for r, name := range roleNames {
		if s == name {
			return Role(r), true
		}
	}
	return RoleNone, false
}

// Allows reports whether a caller holding r may do what needs role need.
func (r Role) Allows(need Role) bool { return r >= need && r > RoleNone }
